"""Prices in, returns out: the one shape every later stage consumes.

Accepted price layouts:

* tidy: columns ``date``, ``symbol`` and ``close`` (``adj_close`` preferred when present);
* wide: a DatetimeIndex (or a ``date`` column) and one column of closes per symbol.

Each symbol keeps its own session dates: returns are measured between
consecutive observed sessions of that symbol, never across a filled gap.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError

RETURN_KINDS = ("log", "simple")


def price_series(prices: pd.DataFrame, price_column: str | None = None) -> dict[str, pd.Series]:
    """Split a tidy or wide price frame into one clean Series of closes per symbol.

    Raises :class:`DataError` naming the symbol and date of duplicated dates,
    non-positive prices or unparseable dates.
    """
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"prices must be a pandas DataFrame, got {type(prices).__name__}")
    if {"symbol", "date"}.issubset(prices.columns):
        column = price_column or ("adj_close" if "adj_close" in prices.columns else "close")
        if column not in prices.columns:
            raise DataError(f"tidy prices have no '{column}' column (columns: {', '.join(map(str, prices.columns))})")
        frame = prices[["date", "symbol", column]].copy()
        frame["date"] = _parse_dates(frame["date"], "prices")
        if price_column is None and column == "adj_close" and "close" in prices.columns:
            frame[column] = frame[column].fillna(prices["close"])
        series = {str(s): g.set_index("date")[column] for s, g in frame.groupby("symbol", sort=False)}
    else:
        frame = prices
        if "date" in frame.columns:
            frame = frame.set_index("date")
        index = _parse_dates(pd.Series(frame.index), "prices")
        frame = frame.set_axis(pd.DatetimeIndex(index), axis=0)
        series = {str(c): frame[c] for c in frame.columns}
    out = {}
    for symbol, s in series.items():
        s = pd.to_numeric(s, errors="coerce").dropna().rename(symbol)
        s.index.name = "date"
        dupes = s.index[s.index.duplicated()]
        if len(dupes):
            raise DataError(f"{symbol}: duplicated date {dupes[0]:%Y-%m-%d} in prices")
        bad = s[s <= 0]
        if len(bad):
            raise DataError(f"{symbol}: non-positive price {bad.iloc[0]} on {bad.index[0]:%Y-%m-%d}")
        out[symbol] = s.sort_index()
    return out


def _parse_dates(values: pd.Series, what: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
    else:
        dates = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = values[dates.isna() & values.notna()]
        if len(bad):
            raise DataError(f"{what}: unparseable date {bad.iloc[0]!r} (row {bad.index[0]})")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.dt.normalize()


def period_returns(close: pd.Series, kind: str = "log") -> pd.Series:
    """Returns between consecutive observations; the first is NaN."""
    if kind == "log":
        return np.log(close).diff()
    if kind == "simple":
        return close.pct_change()
    raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")


def benchmark_returns(benchmark: pd.Series, dates: pd.DatetimeIndex, kind: str = "log") -> pd.Series:
    """Benchmark returns over an asset's own return intervals.

    Uses the benchmark's last close on or before each of the asset's session dates,
    so a return spanning an asset holiday is matched by the benchmark's return over
    the same span (0 if the benchmark did not trade, NaN before its first close).
    """
    asof = benchmark.reindex(benchmark.index.union(dates)).ffill().reindex(dates)
    return period_returns(asof, kind)


@dataclass
class ReturnPanel:
    """Per-asset returns on the asset's own time axis (rows), with benchmark returns."""

    returns: dict[str, pd.Series]

    @classmethod
    def from_prices(cls, prices: pd.DataFrame, kind: str = "log", price_column: str | None = None) -> ReturnPanel:
        if kind not in RETURN_KINDS:
            raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")
        closes = price_series(prices, price_column)
        panel = cls({s: period_returns(c, kind) for s, c in closes.items()})
        panel.closes = closes
        panel.kind = kind
        return panel

    @classmethod
    def from_returns(cls, returns: pd.DataFrame) -> ReturnPanel:
        """A wide frame of returns (rows = the time axis, NaN = missing)."""
        frame = returns
        if "date" in frame.columns:
            frame = frame.set_index("date")
        index = pd.DatetimeIndex(_parse_dates(pd.Series(frame.index), "returns"))
        frame = frame.set_axis(index, axis=0)
        if index.has_duplicates:
            raise DataError(f"returns: duplicated date {index[index.duplicated()][0]:%Y-%m-%d}")
        panel = cls({str(c): pd.to_numeric(frame[c], errors="coerce").rename(str(c)) for c in frame.columns})
        panel.closes = None
        panel.kind = "given"
        return panel

    @property
    def symbols(self) -> list[str]:
        return list(self.returns)

    def require(self, symbols: Iterable[str], role: str = "asset") -> None:
        missing = [s for s in dict.fromkeys(symbols) if s not in self.returns]
        if missing:
            raise DataError(
                f"unknown {role} symbol(s) {', '.join(missing)}: not in the price data "
                f"(available: {', '.join(sorted(self.returns))})"
            )

    def benchmark_on(self, benchmark: str, asset: str) -> pd.Series:
        """Benchmark returns on the asset's rows."""
        dates = self.returns[asset].index
        if self.closes is None:
            return self.returns[benchmark].reindex(dates)
        return benchmark_returns(self.closes[benchmark], dates, self.kind)


# -- the validated tidy shape every source returns ------------------------------------------

#: Columns of a validated price frame, in order (``open`` .. ``volume`` are NaN where unknown).
TIDY_COLUMNS = ("date", "symbol", "open", "high", "low", "close", "adj_close", "volume")
PRICE_FIELDS = ("open", "high", "low", "close", "adj_close")

# Header spellings of common exports (yfinance, Bloomberg, Refinitiv, charting tools).
_ALIASES = {
    "date": ("date", "dates", "time", "timestamp", "datetime", "trade_date", "day"),
    "symbol": ("symbol", "ticker", "ric", "security", "asset"),
    "open": ("open", "px_open", "open_price"),
    "high": ("high", "px_high", "high_price"),
    "low": ("low", "px_low", "low_price"),
    "close": ("close", "px_last", "last", "price", "close_price", "trdprc_1", "settle", "settlement", "value"),
    "adj_close": ("adj_close", "adj close", "adjclose", "adjusted_close", "adjusted close"),
    "volume": ("volume", "vol", "px_volume", "acvol_uns"),
}


def _canonical_columns(columns: Iterable) -> dict:
    """Map raw header names to the canonical field names (first match wins)."""
    lookup = {}
    for field_name, names in _ALIASES.items():
        for name in names:
            lookup.setdefault(name, field_name)
    mapping, taken = {}, set()
    for raw in columns:
        key = str(raw).strip().lower().replace("-", "_")
        field_name = lookup.get(key) or lookup.get(key.replace("_", " "))
        if field_name and field_name not in taken:
            mapping[raw] = field_name
            taken.add(field_name)
    return mapping


def validate_prices(frame: pd.DataFrame, origin: str = "prices", header_lines: int | None = None,
                    with_metadata: bool = True, dayfirst: bool = False) -> pd.DataFrame:
    """Check a tidy price frame and return it in the canonical shape.

    ``origin`` (a file name, "yfinance", ...) and the 1-based ``row`` of the first
    offending record are named in every error, with the file ``line`` when
    ``header_lines`` (lines before the first data row) is given. Adds ``asset_class, exchange, currency`` from the asset
    registry when ``with_metadata``. Sorted by symbol, date.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{origin}: prices must be a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.rename(columns=_canonical_columns(frame.columns)).reset_index(drop=True)
    for needed in ("date", "symbol"):
        if needed not in frame.columns:
            raise DataError(f"{origin}: no '{needed}' column (columns: {', '.join(map(str, frame.columns))})")
    if "close" not in frame.columns and "adj_close" not in frame.columns:
        raise DataError(f"{origin}, header: no close column (expected one of close, Close, PX_LAST, Adj Close; "
                        f"columns: {', '.join(map(str, frame.columns))})")

    def row(i: int) -> str:
        line = f" (line {int(i) + 1 + header_lines})" if header_lines is not None else ""
        return f"row {int(i) + 1}{line}"

    raw_dates = frame["date"]
    if pd.api.types.is_datetime64_any_dtype(raw_dates):
        dates = raw_dates
    else:
        dates = pd.to_datetime(raw_dates.astype("string").str.strip(), errors="coerce", format="mixed",
                               dayfirst=dayfirst)
    bad = dates.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{origin}, {row(i)}: unparseable date {raw_dates.iloc[i]!r} in column 'date'")
    if getattr(dates.dt, "tz", None) is not None:
        # A daily bar's timestamp is local midnight of the session: keep the local date.
        dates = dates.dt.tz_localize(None)
    out = pd.DataFrame({"date": dates.dt.normalize().astype("datetime64[ns]"),
                        "symbol": frame["symbol"].astype("string").str.strip()})
    missing_symbol = out["symbol"].isna() | (out["symbol"] == "")
    if missing_symbol.any():
        raise DataError(f"{origin}, {row(np.flatnonzero(missing_symbol.to_numpy())[0])}: empty symbol")
    for name in (*PRICE_FIELDS, "volume"):
        if name not in frame.columns:
            out[name] = np.nan
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        text = frame[name].astype("string").str.strip()
        junk = values.isna() & text.notna() & (text != "") & ~text.str.lower().isin(["nan", "null", "na", "n/a", "-", "#n/a"])
        if junk.any():
            i = int(np.flatnonzero(junk.to_numpy())[0])
            raise DataError(f"{origin}, {row(i)}: {name} {frame[name].iloc[i]!r} is not a number")
        out[name] = values.astype(float)
    if out["close"].isna().all() and out["adj_close"].notna().any():
        out["close"] = out["adj_close"]
    for name in PRICE_FIELDS:
        nonpos = out[name] <= 0
        if nonpos.any():
            i = int(np.flatnonzero(nonpos.to_numpy())[0])
            raise DataError(f"{origin}, {row(i)}: non-positive {name} {out[name].iloc[i]:g} "
                            f"for {out['symbol'].iloc[i]} on {out['date'].iloc[i]:%Y-%m-%d}")
    dup = out.duplicated(["symbol", "date"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        same = (out["symbol"] == out["symbol"].iloc[i]) & (out["date"] == out["date"].iloc[i])
        first = int(np.flatnonzero(same.to_numpy())[0])
        raise DataError(f"{origin}, {row(i)}: duplicated date {out['date'].iloc[i]:%Y-%m-%d} for "
                        f"{out['symbol'].iloc[i]} (first seen at {row(first)})")
    out = out.dropna(subset=["close"]).sort_values(["symbol", "date"], ignore_index=True)
    out["symbol"] = out["symbol"].astype(str)
    if with_metadata:
        out = with_asset_metadata(out)
    return out


def with_asset_metadata(prices: pd.DataFrame) -> pd.DataFrame:
    """Add each symbol's ``asset_class, exchange`` (calendar) and ``currency``."""
    from .assets import get_asset

    meta = {s: get_asset(s) for s in prices["symbol"].unique()}
    return prices.assign(
        asset_class=prices["symbol"].map({s: a.asset_class for s, a in meta.items()}),
        exchange=prices["symbol"].map({s: a.calendar for s, a in meta.items()}),
        currency=prices["symbol"].map({s: a.currency for s, a in meta.items()}),
    )


def load_price_file(path, symbol: str | None = None, symbols: Iterable[str] | None = None,
                    dayfirst: bool = False) -> pd.DataFrame:
    """Read a user's price file (CSV or parquet) into the validated tidy shape.

    A file without a ``symbol`` column holds one series: its symbol is ``symbol``
    or the file name's stem. Header spellings of yfinance, Bloomberg (``PX_LAST``)
    and Refinitiv (``TRDPRC_1``) exports are recognised. Every error is one line
    naming the file, the row (1-based data row; the header is line 1) and the problem.
    ``symbols`` keeps only those symbols and names any the file lacks; ``dayfirst``
    reads ambiguous dates such as 02/01/2025 as 2 January.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such price file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            if raw.index.name and raw.index.name not in raw.columns:
                raw = raw.reset_index()
        else:
            raw = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                              skip_blank_lines=True)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as {'parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'} "
                        f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    header_lines = 1
    first = str(raw.columns[0]).strip().lower()
    if first == "price" and len(raw) >= 2 and str(raw.iloc[0, 0]).strip().lower() == "ticker" \
            and str(raw.iloc[1, 0]).strip().lower() in ("date", "datetime"):
        # yfinance's DataFrame.to_csv of a (Price, Ticker) download: three header lines
        tickers = {str(t) for t in raw.iloc[0, 1:] if str(t)}
        raw = raw.iloc[2:].rename(columns={raw.columns[0]: "date"}).reset_index(drop=True)
        header_lines = 3
        if len(tickers) == 1 and symbol is None:
            symbol = tickers.pop().replace("=F", "_F").lstrip("^")
        elif len(tickers) > 1:
            raise DataError(f"{path}: a yfinance CSV with {len(tickers)} tickers; save one ticker per file")
    if raw.empty:
        raise DataError(f"{path}: no data rows")
    mapping = _canonical_columns(raw.columns)
    if "symbol" not in mapping.values():
        raw = raw.assign(symbol=symbol or path.stem)
    elif symbol is not None:
        raise DataError(f"{path}: the file has a symbol column; pass symbols=[...] to select, not symbol=")
    prices = validate_prices(raw, origin=str(path), header_lines=header_lines, dayfirst=dayfirst)
    if symbols is not None:
        wanted = list(dict.fromkeys([symbols] if isinstance(symbols, str) else symbols))
        have = set(prices["symbol"])
        missing = [s for s in wanted if s not in have]
        if missing:
            raise DataError(f"{path}: unknown symbol(s) {', '.join(missing)} (the file has: {', '.join(sorted(have))})")
        prices = prices[prices["symbol"].isin(wanted)].reset_index(drop=True)
    return prices


def load_prices(symbols: Iterable[str] | str | None = None, source="bundled", start=None, end=None, *,
                offline: bool = False, refresh: bool = False, cache_dir=None) -> pd.DataFrame:
    """Tidy, validated daily prices from any source, with asset metadata.

    ``source``: ``"bundled"`` (default, the offline real sample), ``"yahoo"`` (yfinance
    through the local cache, see :class:`impact.cache.PriceCache`; ``offline=True``
    reads the cache only), a CSV/parquet path, a DataFrame, or a source object.
    Unknown symbols and failed downloads raise :class:`DataError` naming them.
    """
    from .sources import get_source

    if isinstance(symbols, str):
        symbols = [symbols]
    src = get_source(source)
    if src.name == "bundled" and symbols is None:
        from . import datasets

        symbols = datasets.available_symbols()
    if symbols is None:
        if not hasattr(src, "frame"):
            raise DataError(f"give the symbols to load from {src.name}")
        symbols = sorted(set(src.frame["symbol"]))
    symbols = list(dict.fromkeys(symbols))
    if src.name == "yahoo":
        from .cache import PriceCache

        report = PriceCache(cache_dir).fetch(symbols, start, end, src, offline=offline, refresh=refresh)
        report.raise_for_failures()
        prices = report.prices
    else:
        got = src.fetch(symbols, start, end)
        if got.failed:
            raise DataError(f"unknown symbol(s) {', '.join(got.failed)} in {src.name}: "
                            f"{next(iter(got.failed.values()))}")
        prices = got.prices
    prices = prices[list(TIDY_COLUMNS)].sort_values(["symbol", "date"], ignore_index=True)
    prices["date"] = prices["date"].astype("datetime64[ns]")  # one resolution and dtype whatever the source
    prices["symbol"] = prices["symbol"].astype(str)
    return with_asset_metadata(prices)
