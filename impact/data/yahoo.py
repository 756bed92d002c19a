"""yfinance adapter: one batched download, normalised into the tidy price shape.

What it smooths over (yfinance 0.2.x-1.x behaviour, read from its ``multi.py``):

* column layouts: a ``(Price, Ticker)`` MultiIndex by default, ``(Ticker, Price)``
  with ``group_by="ticker"``, flat columns for one ticker with
  ``multi_level_index=False``;
* ``auto_adjust`` changed its default to True in 0.2.51: we always pass it explicitly
  (default False, so both the traded ``Close`` and ``Adj Close`` are kept);
* ``end`` is exclusive: callers here give an inclusive last date;
* the index is the session's local midnight (tz-aware, or naive with ``ignore_tz``):
  we keep the exchange-local date and never take the UTC date, which would move
  Asian sessions to the previous day; a frame indexed in UTC is converted to the
  exchange's zone first (:func:`impact.data.session_dates`);
* rows padded with NaN because another ticker traded that day are dropped, so a
  missing session stays missing instead of becoming a fake price;
* yfinance swallows per-ticker failures (rate limits included) and logs them; we
  capture that log to retry transient failures with exponential backoff and jitter
  and to name the symbols that finally failed.
"""
from __future__ import annotations

import ast
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError
from ..events.assets import registry
from .bars import check_lookback, validate_bars
from .prices import TIDY_COLUMNS, session_dates, validate_prices

#: yfinance's names for price fields (any other level of a MultiIndex holds tickers).
_FIELDS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Adj Close": "adj_close",
           "Volume": "volume"}
_OTHER_FIELDS = {"Dividends", "Stock Splits", "Capital Gains", "Repaired?"}

#: Words in yfinance's error text that mark a failure worth retrying.
_TRANSIENT = ("ratelimit", "rate limit", "too many requests", "timeout", "timed out", "connection",
              "temporarily", "503", "502", "504", "reset by peer")


def yahoo_ticker(symbol: str) -> str:
    """Yahoo's ticker for a package symbol (``ZS_F`` -> ``ZS=F``); other strings pass through."""

    table = registry()
    if symbol in table.index:
        ticker = table.loc[symbol, "yahoo"]
        if not ticker:
            raise DataError(f"{symbol}: no Yahoo ticker for this series (see impact.datasets.provenance()); "
                            "use the bundled sample or your own file")
        return ticker
    return symbol


def _is_transient(message: str) -> bool:
    text = message.lower()
    return any(word in text for word in _TRANSIENT)


def normalize_download(frame: pd.DataFrame | None, tickers: Iterable[str]) -> pd.DataFrame:
    """Any ``yfinance.download`` layout -> tidy ``date, symbol(ticker), open .. volume``.

    ``tickers`` are the requested tickers (a flat frame belongs to the only one).
    Rows without a close are dropped (padding from other tickers' sessions).
    """
    long = _long_rows(frame, tickers)
    if long is None:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else (str if c == "symbol" else float))
                             for c in TIDY_COLUMNS})
    # The exchange-local session date (a UTC-indexed frame is converted to the exchange's zone).
    long["date"] = session_dates(long["date"], long["symbol"], "yfinance")
    for column in TIDY_COLUMNS[2:]:
        if column not in long.columns:
            long[column] = np.nan
    long = long[list(TIDY_COLUMNS)].dropna(subset=["close"])
    # Cells that are not numbers stay as they are: validate_prices refuses them for that symbol only.
    numeric = {c: float for c in TIDY_COLUMNS[2:] if pd.to_numeric(long[c], errors="coerce").notna().sum()
               == long[c].notna().sum()}
    return long.astype(numeric).sort_values(["symbol", "date"], ignore_index=True)


def normalize_bar_download(frame: pd.DataFrame | None, tickers: Iterable[str]) -> pd.DataFrame:
    """An intraday ``yfinance.download`` (index = bar start, tz-aware) -> long rows
    ``date`` (the raw instant), ``symbol``, OHLCV, padding rows dropped; the instants are
    read by :func:`impact.data.bars.validate_bars`."""
    long = _long_rows(frame, tickers)
    if long is None:
        return pd.DataFrame(columns=["date", "symbol", "open", "high", "low", "close", "volume"])
    return long.dropna(subset=["close"]).reset_index(drop=True)


def _long_rows(frame: pd.DataFrame | None, tickers: Iterable[str]) -> pd.DataFrame | None:
    """One row per ticker and index value from any download layout; None when empty."""
    tickers = list(tickers)
    if frame is None or frame.empty or len(frame.columns) == 0:
        return None
    by_upper = {t.upper(): t for t in tickers}
    if isinstance(frame.columns, pd.MultiIndex):
        if frame.columns.nlevels != 2:
            raise DataError(f"yfinance: unexpected {frame.columns.nlevels}-level columns")
        level0 = set(map(str, frame.columns.get_level_values(0)))
        field_level = 0 if level0 <= set(_FIELDS) | _OTHER_FIELDS else 1
        ticker_level = 1 - field_level
        blocks = []
        for ticker in dict.fromkeys(frame.columns.get_level_values(ticker_level)):
            block = frame.xs(ticker, axis=1, level=ticker_level)
            blocks.append(_flat_block(block, str(ticker)))
        long = pd.concat(blocks, ignore_index=True)
    else:
        if len(tickers) != 1:
            raise DataError(f"yfinance: flat columns but {len(tickers)} tickers requested; cannot tell them apart")
        long = _flat_block(frame, tickers[0])
    if "close" not in long.columns:
        raise DataError(f"yfinance: no Close column in the download (columns: {', '.join(map(str, frame.columns))})")
    long["symbol"] = long["symbol"].astype(str).map(lambda t: by_upper.get(t.upper(), t))
    return long


def _flat_block(block: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """One ticker's flat OHLCV frame (index = dates) -> long rows."""
    out = block.rename(columns=lambda c: _FIELDS.get(str(c), str(c)))
    out = out.rename_axis("date").reset_index()
    out.columns.name = None
    out["symbol"] = ticker
    return out


class _ErrorLog(logging.Handler):
    """Collects the per-ticker failures yfinance logs instead of raising."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        head, sep, reason = message.partition("]: ")
        if not sep or not head.startswith("["):
            return
        try:
            names = ast.literal_eval(head + "]")
        except (ValueError, SyntaxError):
            return
        for name in names:
            self.errors[str(name).upper()] = reason.strip()


@dataclass
class DownloadResult:
    prices: pd.DataFrame                       # tidy, symbol = package symbol
    failed: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    delays: list[float] = field(default_factory=list)


@dataclass
class YahooSource:
    """Daily prices (``interval="1d"``) or intraday bars (``"1m"`` .. ``"60m"``, with pre-
    and post-market bars) from Yahoo Finance through ``yfinance.download``.

    Intraday requests beyond yfinance's look-back (:data:`impact.data.bars.YAHOO_LOOKBACK_DAYS`)
    are refused before asking; 1-minute ranges are asked in 7-day pieces (its limit is 8).

    ``auto_adjust`` is passed explicitly (default False: ``close`` is the traded close,
    ``adj_close`` the split/dividend-adjusted one). Transient failures (rate limits,
    time-outs) are retried ``retries`` times with exponential backoff and full
    jitter (delay ~ U(0.5, 1) x min(max_delay, base_delay x 2^attempt)).
    """

    auto_adjust: bool = False
    retries: int = 4
    base_delay: float = 2.0
    max_delay: float = 60.0
    timeout: float = 30.0
    sleep: Callable[[float], None] | None = None  # default: time.sleep, looked up when needed
    rng: random.Random = field(default_factory=random.Random)
    name: str = "yahoo"
    interval: str = "1d"
    today: str | None = None  # the day look-back limits count back from (default: today, UTC)

    @property
    def adjustment(self) -> str:
        return "auto_adjust" if self.auto_adjust else "raw+adj_close"

    def _download(self, tickers: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None):
        import yfinance

        handler = _ErrorLog()
        logger = logging.getLogger("yfinance")
        logger.addHandler(handler)
        pieces = [(start, end)]
        if self.interval == "1m" and start is not None and end is not None:  # yfinance: 8 days per 1m request
            edges = list(pd.date_range(start, end, freq="7D")) + [end + pd.Timedelta(days=1)]
            pieces = [(a, b - pd.Timedelta(days=1)) for a, b in zip(edges[:-1], edges[1:])]
        frames = []
        try:
            for lo, hi in pieces:
                frames.append(yfinance.download(
                    tickers, start=None if lo is None else lo.strftime("%Y-%m-%d"),
                    # yfinance's end is exclusive: ask for the day after the last wanted date.
                    end=None if hi is None else (hi + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
                    interval=self.interval, prepost=self.interval != "1d", auto_adjust=self.auto_adjust,
                    actions=False, progress=False, group_by="column", multi_level_index=True,
                    timeout=self.timeout, threads=True,
                ))
        finally:
            logger.removeHandler(handler)
        frames = [f for f in frames if f is not None and not f.empty]
        frame = pd.concat(frames) if len(frames) > 1 else (frames[0] if frames else None)
        return frame, handler.errors

    def fetch(self, symbols: Iterable[str], start=None, end=None) -> DownloadResult:
        """Download ``symbols`` (package symbols or Yahoo tickers) for ``[start, end]``.

        Returns what arrived plus ``failed`` (symbol -> last reason); it does not raise
        for failed symbols so that the caller can keep (cache) the partial success.
        """
        symbols = list(dict.fromkeys(symbols))
        tickers = {s: yahoo_ticker(s) for s in symbols}
        start = None if start is None else pd.Timestamp(start).normalize()
        end = None if end is None else pd.Timestamp(end).normalize()
        intraday = self.interval != "1d"
        if intraday:
            check_lookback(self.interval, start, self.today)
        normalize = normalize_bar_download if intraday else normalize_download
        result = DownloadResult(prices=normalize(None, []))
        pending = list(symbols)
        parts = []
        for attempt in range(self.retries + 1):
            result.attempts = attempt + 1
            wanted = [tickers[s] for s in pending]
            try:
                frame, errors = self._download(wanted, start, end)
            except Exception as exc:  # yfinance raises from the whole batch for some errors
                message = f"{type(exc).__name__}: {exc}"
                if not _is_transient(message) and not _is_transient(type(exc).__name__):
                    for s in pending:
                        result.failed[s] = message
                    pending = []
                    break
                for s in pending:
                    result.failed[s] = message
            else:
                tidy = normalize(frame, wanted)
                got = set(tidy["symbol"])
                retry = []
                for s in pending:
                    t = tickers[s]
                    reason = errors.get(t.upper())
                    if t in got:
                        result.failed.pop(s, None)
                        parts.append(tidy[tidy["symbol"] == t].assign(symbol=s))
                    elif reason is None:
                        # No rows and no error: nothing traded in the range (not a failure).
                        result.failed.pop(s, None)
                    elif _is_transient(reason):
                        result.failed[s] = reason
                        retry.append(s)
                    else:
                        result.failed[s] = reason
                pending = retry
            if not pending or attempt == self.retries:
                break
            delay = min(self.max_delay, self.base_delay * 2 ** attempt) * self.rng.uniform(0.5, 1.0)
            result.delays.append(delay)
            (self.sleep or time.sleep)(delay)
        for s in pending:
            result.failed[s] = f"{result.failed.get(s, 'failed')} (gave up after {result.attempts} attempts)"
        valid = []
        for part in parts:  # one symbol's bad values (e.g. a negative futures print) fail that symbol only
            symbol = str(part["symbol"].iloc[0])
            origin = f"yfinance {tickers[symbol]}"
            try:
                valid.append(validate_bars(part.reset_index(drop=True), origin, self.interval) if intraday else
                             validate_prices(part.reset_index(drop=True), origin=origin, with_metadata=False))
            except DataError as exc:
                result.failed[symbol] = str(exc)
        if valid:
            result.prices = pd.concat(valid, ignore_index=True)
        return result
