"""Returns from prices: per-symbol session returns, benchmark returns over an asset's own
intervals, returns that span a gap in the series, and the panel the study reads.

Each symbol keeps its own session dates: returns are measured between consecutive
observed sessions of that symbol, never across a filled gap.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..events.align import SESSION_PARTS
from ..events.assets import get_asset
from ..events.calendars import sessions
from .prices import price_series, price_values, session_dates

RETURN_KINDS = ("log", "simple")


def period_returns(close: pd.Series, kind: str = "log") -> pd.Series:
    """Returns between consecutive observations; the first is NaN."""
    if kind == "log":
        return np.log(close).diff()
    if kind == "simple":
        return close.pct_change()
    raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")


def part_returns(close: pd.Series, open_: pd.Series | None, raw_close: pd.Series | None, kind: str,
                 part: str) -> pd.Series:
    """The overnight (previous close -> open) or trading (open -> close) return of each
    session, on the rows of ``close``; NaN where the open is missing.

    ``close`` may be adjusted (``adj_close``) and the open never is, so the open is put on
    the same basis with that day's adjustment factor ``close / raw_close``: a dividend or
    split then moves neither part. The two parts add up to the close-to-close log return.
    """
    if open_ is None or not len(open_):
        return pd.Series(np.nan, index=close.index, name=close.name)
    factor = close / raw_close.reindex(close.index) if raw_close is not None else 1.0
    opened = open_.reindex(close.index) * factor
    num, den = (opened, close.shift(1)) if part == "overnight" else (close, opened)
    ratio = num / den
    return (np.log(ratio) if kind == "log" else ratio - 1).rename(close.name)


def benchmark_returns(benchmark: pd.Series, dates: pd.DatetimeIndex, kind: str = "log") -> pd.Series:
    """Benchmark returns over an asset's own return intervals.

    Uses the benchmark's last close on or before each of the asset's session dates,
    so a return spanning an asset holiday is matched by the benchmark's return over
    the same span (0 if the benchmark did not trade, NaN before its first close).
    """
    asof = benchmark.reindex(benchmark.index.union(dates)).ffill().reindex(dates)
    return period_returns(asof, kind)


#: Columns of :func:`gap_returns` (the shape of ``EventStudy(estimation_exclusions=...)``).
GAP_COLUMNS = ("asset", "date", "reason")


def gap_rows(closes: dict[str, pd.Series]) -> pd.DataFrame:
    """:func:`gap_returns` for closes already split by :func:`price_series`."""
    rows = []
    for symbol, close in closes.items():
        dates = pd.DatetimeIndex(close.dropna().index)
        if len(dates) < 2:
            continue
        cal = sessions(get_asset(symbol))
        # sessions in (previous observation, this one]: 1 for consecutive sessions
        spanned = np.diff(cal.searchsorted(dates, side="right"))
        for day, n in zip(dates[1:], spanned):
            if n > 1 and day <= cal[-1]:  # beyond the calendar's horizon nothing can be said
                rows.append((symbol, day, f"gap:{int(n)} sessions"))
    out = pd.DataFrame(rows, columns=list(GAP_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out


def gap_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Returns that span a gap: ``asset, date, reason`` with ``reason = "gap:<n> sessions"``.

    Rule: a return is measured between consecutive observed closes of an asset; when
    the asset's trading calendar (:func:`impact.calendars.sessions`, XNYS for unknown
    symbols) has ``n > 1`` sessions in ``(previous close date, date]``, the return
    dated ``date`` spans ``n`` sessions (missing data, a suspension) and is not a
    one-session return. It is flagged, never filled: a months-long hole would
    otherwise enter estimation as one huge "daily" return. The rows have the shape
    of ``EventStudy``'s ``estimation_exclusions`` so they can be left out of
    estimation as they are.
    """
    return gap_rows(price_series(prices))


class Columns(MutableMapping):
    """The columns of one wide block of returns as a mapping symbol -> Series, each Series made
    on first use (a view of the block, sharing the one index): a study of 10,000 assets reads
    their values and dates (:meth:`column`) without 10,000 Series objects."""

    def __init__(self, values: np.ndarray, index: pd.DatetimeIndex, names: list[str]):
        self._values, self._index = values, index
        self._at: dict[str, int | None] = {name: j for j, name in enumerate(names)}
        self._made: dict[str, pd.Series] = {}

    def column(self, symbol: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
        """The symbol's returns and dates, without a Series unless one was set or made."""
        made = self._made.get(symbol)
        if made is not None:
            return made.to_numpy(dtype=float), made.index
        j = self._at[symbol]  # KeyError for an unknown symbol, as a dict
        return self._values[:, j], self._index

    def indexes(self, symbols: Iterable[str]) -> dict[str, pd.DatetimeIndex]:
        """Each known symbol's dates: the block's one index unless a Series was set for it."""
        made, index = self._made, self._index
        return {s: made[s].index if s in made else index for s in symbols if s in self._at}

    def __getitem__(self, symbol: str) -> pd.Series:
        made = self._made.get(symbol)
        if made is None:
            values, index = self.column(symbol)
            made = self._made[symbol] = pd.Series(values, index=index, name=symbol, copy=False)
        return made

    def __setitem__(self, symbol: str, series: pd.Series) -> None:
        self._at.setdefault(symbol, None)
        self._made[symbol] = series

    def __delitem__(self, symbol: str) -> None:
        del self._at[symbol]
        self._made.pop(symbol, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._at


@dataclass
class ReturnPanel:
    """Per-asset returns on the asset's own time axis (rows), with benchmark returns."""

    returns: MutableMapping[str, pd.Series]
    closes: dict[str, pd.Series] | None = None  # the closes behind them (None for given returns)
    kind: str = "given"
    part: str = "close"  # the part of each session the returns cover (SESSION_PARTS)
    no_open: frozenset[str] = frozenset()  # symbols without a single open in the data

    @classmethod
    def from_prices(cls, prices: pd.DataFrame, kind: str = "log", price_column: str | None = None,
                    part: str = "close") -> ReturnPanel:
        """Returns of every symbol in ``prices``: close to close, or one part of each session
        (``part="overnight"|"trading"``, which needs tidy prices with an ``open`` column)."""
        if kind not in RETURN_KINDS:
            raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")
        if part not in SESSION_PARTS:
            raise DataError(f"unknown session_part {part!r} (choose from {', '.join(SESSION_PARTS)})")
        closes = price_series(prices, price_column)
        if part == "close":
            return cls({s: period_returns(c, kind) for s, c in closes.items()}, closes, kind)
        if not {"symbol", "date", "open"}.issubset(prices.columns):
            raise DataError(f"session_part={part!r} needs tidy prices with an 'open' column (date, symbol, open, "
                            "close); wide frames and returns hold closes only")
        opens = price_series(prices, "open")
        raw = price_series(prices, "close") if "close" in prices.columns and price_column != "close" else None
        returns = {s: part_returns(c, opens.get(s), raw.get(s) if raw is not None else None, kind, part)
                   for s, c in closes.items()}
        empty = frozenset(s for s in closes if not len(opens.get(s, ())))
        return cls(returns, closes, kind, part, empty)

    @classmethod
    def from_returns(cls, returns: pd.DataFrame) -> ReturnPanel:
        """A wide frame of returns (rows = the time axis, NaN = missing)."""
        frame = returns
        if "date" in frame.columns:
            frame = frame.set_index("date")
        index = pd.DatetimeIndex(session_dates(pd.Series(frame.index, dtype=frame.index.dtype), None, "returns"))
        frame = frame.set_axis(index, axis=0)
        if index.has_duplicates:
            raise DataError(f"returns: duplicated date {index[index.duplicated()][0]:%Y-%m-%d}")
        # Same rule as prices: text and inf are refused, not dropped (returns may be <= 0).
        # A block of float columns with nothing to refuse is split without a check per column,
        # and every asset keeps the frame's one index (later stages then meet one time axis).
        numeric = all(pd.api.types.is_float_dtype(t) for t in frame.dtypes)
        # One copy of the block (the caller's frame may change later); Series only on demand.
        values = frame.to_numpy(dtype=float, copy=True) if numeric and len(frame.columns) else None
        if values is not None and not np.isinf(values).any():
            return cls(Columns(values, index, [str(c) for c in frame.columns]))
        return cls({str(c): price_values(frame[c], str(c), pd.Series(str(c), index=frame.index),
                                         pd.Series(index, index=frame.index), "returns", positive=False).rename(str(c))
                    for c in frame.columns})

    @property
    def symbols(self) -> list[str]:
        return list(self.returns)

    def column(self, symbol: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
        """``symbol``'s returns as floats and their dates (no Series made for a wide block)."""
        if isinstance(self.returns, Columns):
            return self.returns.column(symbol)
        series = self.returns[symbol]
        return series.to_numpy(dtype=float), series.index

    def indexes(self, symbols: Iterable[str]) -> dict[str, pd.DatetimeIndex]:
        """The dates of each of ``symbols`` in the panel (unknown ones left out)."""
        if isinstance(self.returns, Columns):
            return self.returns.indexes(symbols)
        return {s: self.returns[s].index for s in symbols if s in self.returns}

    def index_of(self, symbol: str) -> pd.DatetimeIndex:
        """``symbol``'s dates (its rows)."""
        return self.column(symbol)[1] if isinstance(self.returns, Columns) else self.returns[symbol].index

    def gaps(self) -> pd.DataFrame:
        """Returns spanning more than one calendar session (:func:`gap_returns`); none for given returns."""
        return gap_rows(self.closes) if self.closes is not None else pd.DataFrame(columns=list(GAP_COLUMNS))

    def spans_gap(self, asset: str) -> pd.Series:
        """Per-return flag on ``asset``'s rows: True where the return spans more than one session."""
        self.require([asset])
        flagged = self.gaps()
        days = set(flagged.loc[flagged["asset"] == asset, "date"])
        index = self.index_of(asset)
        return pd.Series(index.isin(list(days)), index=index, name="spans_gap")

    def require(self, symbols: Iterable[str], role: str = "asset") -> None:
        missing = [s for s in dict.fromkeys(symbols) if s not in self.returns]
        if missing:
            raise DataError(
                f"unknown {role} symbol(s) {', '.join(missing)}: not in the price data "
                f"(available: {', '.join(sorted(self.returns))})"
            )

    def benchmark_on(self, benchmark: str, asset: str) -> pd.Series:
        """Benchmark returns on the asset's rows."""
        dates = self.index_of(asset)
        if self.closes is None or self.part != "close":
            # a part's return belongs to its session: the benchmark's same part on the same date
            return self.returns[benchmark].reindex(dates)
        return benchmark_returns(self.closes[benchmark], dates, self.kind)


# -- the validated tidy shape every source returns ------------------------------------------

#: Columns of a validated price frame, in order (``open`` .. ``volume`` are NaN where unknown).
