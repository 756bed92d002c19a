"""Where prices come from: one small interface, several sources.

Every source has a ``name``, an ``adjustment`` label and
``fetch(symbols, start, end) -> FetchResult`` returning the validated tidy shape
(:data:`impact.data.TIDY_COLUMNS`) plus the symbols that failed and why. Sources:

* :class:`BundledSource` - the real sample shipped with the package (offline default);
* :class:`FileSource` - a user's CSV/parquet export (Bloomberg, Refinitiv, yfinance, ...);
* :class:`FrameSource` - an in-memory DataFrame;
* :class:`impact.yahoo.YahooSource` - yfinance, normally behind :class:`impact.cache.PriceCache`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from ..errors import DataError
from . import datasets
from .files import load_price_file
from .prices import TIDY_COLUMNS, validate_prices
from .yahoo import YahooSource


@dataclass
class FetchResult:
    prices: pd.DataFrame
    failed: dict[str, str] = field(default_factory=dict)


class Fetched(Protocol):
    """What a fetch returns: tidy prices and the symbols that failed, with why."""

    prices: pd.DataFrame
    failed: dict[str, str]


class PriceSource(Protocol):
    name: str

    @property
    def adjustment(self) -> str: ...

    def fetch(self, symbols: Iterable[str], start=None, end=None) -> Fetched: ...


def _window(prices: pd.DataFrame, start, end) -> pd.DataFrame:
    if start is not None:
        prices = prices[prices["date"] >= pd.Timestamp(start)]
    if end is not None:
        prices = prices[prices["date"] <= pd.Timestamp(end)]
    return prices.reset_index(drop=True)


@dataclass
class FrameSource:
    """An in-memory tidy frame (validated once, on construction)."""

    frame: pd.DataFrame
    name: str = "frame"
    adjustment: str = "as given"

    def __post_init__(self):
        self.frame = validate_prices(self.frame, origin=f"<{self.name}>", with_metadata=False)

    def fetch(self, symbols: Iterable[str], start=None, end=None) -> FetchResult:
        symbols = list(dict.fromkeys(symbols))
        have = set(self.frame["symbol"])
        failed = {s: f"not in {self.name}" for s in symbols if s not in have}
        rows = self.frame[self.frame["symbol"].isin(symbols)]
        return FetchResult(_window(rows, start, end), failed)


class FileSource(FrameSource):
    """A CSV or parquet price file (see :func:`impact.data.load_price_file`)."""

    def __init__(self, path: str | Path, symbol: str | None = None, dayfirst: bool = False):
        self.path = Path(path)
        self.name = f"file:{self.path.name}"
        self.adjustment = "as given"
        self.frame = load_price_file(self.path, symbol=symbol, dayfirst=dayfirst)[list(TIDY_COLUMNS)]


@dataclass
class BundledSource:
    """The real sample shipped with the package (offline; see ``impact.datasets.provenance()``)."""

    name: str = "bundled"
    adjustment: str = "see SOURCES.md"

    def fetch(self, symbols: Iterable[str], start=None, end=None) -> FetchResult:

        symbols = list(dict.fromkeys(symbols))
        known = set(datasets.available_symbols())
        failed = {s: "not in the bundled sample" for s in symbols if s not in known}
        ok = [s for s in symbols if s in known]
        prices = datasets.load_prices(ok)[list(TIDY_COLUMNS)] if ok else pd.DataFrame(columns=list(TIDY_COLUMNS))
        return FetchResult(_window(prices, start, end), failed)


def get_source(source) -> PriceSource:
    """A source from a name (``bundled``, ``yahoo``), a file path or a DataFrame."""
    if isinstance(source, pd.DataFrame):
        return FrameSource(source)
    if hasattr(source, "fetch"):
        return source
    if source in (None, "bundled", "sample"):
        return BundledSource()
    if source in ("yahoo", "yfinance"):
        return YahooSource()
    path = Path(str(source))
    if path.suffix.lower() in (".csv", ".txt", ".parquet", ".pq") or path.exists():
        return FileSource(path)
    raise DataError(f"unknown price source {source!r} (choose bundled, yahoo, a CSV/parquet path or a DataFrame)")
