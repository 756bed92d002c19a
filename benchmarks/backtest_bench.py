"""Timing of the backtester on the bundled sample (not a test: run by hand).

    python benchmarks/backtest_bench.py

Prints wall-clock seconds for the shipped soybean spec and for a broad rule
(every catalog event x 10 assets, learned signs, 1000 placebo runs).
"""
from __future__ import annotations

import time

from impact import datasets
from impact.backtest import load_rule, rule_from_dict, run_backtest


def timed(label, fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<55s} {best:7.3f} s  ({out.metrics['n_trades']} trades, {len(out.placebo)} placebo runs)")


def main() -> None:
    assets = ["SPY", "SOXX", "KWEB", "FXI", "HSI", "ZS_F", "HG_F", "CT1", "DEXCHUS", "USDCNY_X"]
    prices = datasets.load_prices(assets)
    soy = load_rule("soybeans_retaliation")
    broad = rule_from_dict({"name": "broad", "assets": assets, "signs": "learned", "holding": 5,
                            "sizing": "volatility", "placebo": {"runs": 1000, "seed": 1}})
    run_backtest(soy)  # warm caches (calendars, parquet)
    timed("soybean spec (bundled data, 1000 placebo runs)", lambda: run_backtest(soy))
    timed("80 events x 10 assets, learned signs, vol sizing", lambda: run_backtest(broad, prices))


if __name__ == "__main__":
    main()
