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
    def from_prices(cls, prices: pd.DataFrame, kind: str = "log", price_column: str | None = None) -> "ReturnPanel":
        if kind not in RETURN_KINDS:
            raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")
        closes = price_series(prices, price_column)
        panel = cls({s: period_returns(c, kind) for s, c in closes.items()})
        panel.closes = closes
        panel.kind = kind
        return panel

    @classmethod
    def from_returns(cls, returns: pd.DataFrame) -> "ReturnPanel":
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
