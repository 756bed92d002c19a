"""One entry point for prices from any source: the bundled sample, yfinance through the
cache, files, frames or a source object (:func:`load_prices`)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..errors import DataError
from . import datasets
from .bars import BAR_COLUMNS, validate_bars
from .cache import PriceCache
from .files import load_bar_file
from .prices import TIDY_COLUMNS, with_asset_metadata
from .sources import get_source
from .yahoo import YahooSource


def load_prices(symbols: Iterable[str] | str | None = None, source="bundled", start=None, end=None, *,
                offline: bool = False, refresh: bool = False, cache_dir=None) -> pd.DataFrame:
    """Tidy, validated daily prices from any source, with asset metadata.

    ``source``: ``"bundled"`` (default, the offline real sample), ``"yahoo"`` (yfinance
    through the local cache, see :class:`impact.cache.PriceCache`; ``offline=True``
    reads the cache only), a CSV/parquet path, a DataFrame, or a source object.
    Unknown symbols and failed downloads raise :class:`DataError` naming them.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    src = get_source(source)
    if src.name == "bundled" and symbols is None:
        symbols = datasets.available_symbols()
    if symbols is None:
        if not hasattr(src, "frame"):
            raise DataError(f"give the symbols to load from {src.name}")
        symbols = sorted(set(src.frame["symbol"]))
    symbols = list(dict.fromkeys(symbols))
    if src.name == "yahoo":
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


def load_bars(symbols: Iterable[str] | str | None = None, source="yahoo", start=None, end=None, *,
              interval: str = "5m", tz: str | None = None, dayfirst: bool | None = None, offline: bool = False,
              refresh: bool = False, cache_dir=None) -> pd.DataFrame:
    """Validated intraday bars (:mod:`impact.data.bars`: ``symbol, time`` (UTC bar start),
    ``date, open, high, low, close, volume``) from any source.

    ``source``: ``"yahoo"`` or a :class:`~impact.data.yahoo.YahooSource` (yfinance intraday with pre/post-market bars, through the
    durable cache, one file per symbol and ``interval``; yfinance's look-back limits are
    checked before asking: 1m for 30 days, up to 90m for 60 days, 60m for 730 days), a
    CSV/parquet path (``tz`` names a naive file's clock, ``dayfirst`` reads slashed dates),
    or a DataFrame of bars.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    from_yahoo = isinstance(source, YahooSource) or (isinstance(source, str) and source in ("yahoo", "yfinance"))
    if isinstance(source, pd.DataFrame):
        bars = validate_bars(source, "bars", interval=interval, tz=tz, dayfirst=dayfirst)
    elif from_yahoo:
        if not symbols:
            raise DataError("give the symbols to load from yahoo")
        yahoo = source if isinstance(source, YahooSource) else YahooSource(interval=interval)
        if yahoo.interval != interval:
            raise DataError(f"the source asks for {yahoo.interval} bars but interval={interval!r}; make them agree")
        report = PriceCache(cache_dir, interval=interval).fetch(list(symbols), start, end, yahoo, offline=offline,
                                                                refresh=refresh)
        report.raise_for_failures()
        bars = report.prices
    elif isinstance(source, (str, Path)):
        bars = load_bar_file(source, interval=interval, tz=tz, dayfirst=dayfirst)
    else:
        raise DataError(f"unknown bar source {source!r} (choose yahoo, a CSV/parquet path or a DataFrame)")
    if symbols is not None and not from_yahoo:
        have = set(bars["symbol"])
        missing = [s for s in symbols if s not in have]
        if missing:
            raise DataError(f"unknown symbol(s) {', '.join(missing)} in the bars (they hold: {', '.join(sorted(have))})")
        bars = bars[bars["symbol"].isin(list(symbols))]
    if start is not None:
        bars = bars[bars["date"] >= pd.Timestamp(start)]
    if end is not None:
        bars = bars[bars["date"] <= pd.Timestamp(end)]
    bars = bars[list(BAR_COLUMNS)].sort_values(["symbol", "time"], ignore_index=True)
    bars["time"] = bars["time"].astype("datetime64[ns, UTC]")
    bars["date"] = bars["date"].astype("datetime64[ns]")
    return bars
