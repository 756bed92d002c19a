"""Data-layer timings on the real bundled sample: ``python benchmarks/data_bench.py``.

Measures (wall clock, best of 3): roll detection and the quality report over all
bundled series, writing and reading the parquet cache for every symbol, a cache-only
``PriceCache.fetch`` (no network), and validating the whole sample as a user file.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from impact import datasets
from impact.data.cache import PriceCache
from impact.data.files import load_price_file
from impact.data.prices import TIDY_COLUMNS
from impact.data.quality import check_prices
from impact.data.rolls import detect_rolls
from impact.data.sources import FrameSource


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    prices = datasets.load_prices()
    tidy = prices[list(TIDY_COLUMNS)]
    symbols = sorted(prices["symbol"].unique())
    print(f"bundled sample: {len(prices):,} rows, {len(symbols)} symbols (real data)")
    t, rolls = best(lambda: detect_rolls(prices))
    print(f"detect_rolls, all symbols:           {t:7.3f} s  ({len(rolls)} roll days)")
    check_prices(prices)  # warm the trading calendars once
    t, found = best(lambda: check_prices(prices))
    print(f"check_prices, all symbols:           {t:7.3f} s  ({len(found)} findings)")
    with tempfile.TemporaryDirectory() as tmp:
        cache = PriceCache(Path(tmp) / "cache")
        src = FrameSource(tidy)
        t, _ = best(lambda: cache.fetch(symbols, "2017-01-01", "2026-01-12", src, refresh=True), repeat=1)
        print(f"cache fetch+write, {len(symbols)} symbols:     {t:7.3f} s")
        t, rep = best(lambda: cache.fetch(symbols, "2017-01-01", "2026-01-12", src, offline=True))
        print(f"cache read (offline), {len(symbols)} symbols:  {t:7.3f} s  ({len(rep.prices):,} rows in 2017-01-01..2026-01-12)")
        path = Path(tmp) / "all.csv"
        tidy.to_csv(path, index=False)
        t, _ = best(lambda: load_price_file(path))
        print(f"load_price_file, {len(tidy):,}-row CSV:  {t:7.3f} s")


if __name__ == "__main__":
    main()
