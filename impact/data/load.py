"""One entry point for prices from any source: the bundled sample, yfinance through the
cache, files, frames or a source object (:func:`load_prices`)."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..errors import DataError
from . import datasets
from .cache import PriceCache
from .prices import TIDY_COLUMNS, with_asset_metadata
from .sources import get_source


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
