"""Placebo baseline: the same trades on random dates.

Each run replaces every real trade's entry by a session drawn uniformly (seeded
``numpy.random.default_rng``) from the same asset's rows between the first
selected announcement and the last row that leaves room for the holding period,
keeping the trade's side, weight, holding period and costs. Exits are the
holding period (stop/take-profit levels are not replayed). The statistic is the
mean net return per trade; the real strategy's percentile is the share of runs
whose statistic is at or below the real one (a randomization test in the spirit
of the bootstrap baselines of Brock, Lakonishok & LeBaron 1992).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import BacktestRule


def placebo_distribution(rule: BacktestRule, trades: pd.DataFrame, tables: dict[str, pd.DataFrame],
                         start: pd.Timestamp | None) -> pd.DataFrame:
    """One row per run: ``run, mean_return, total_pnl``; ``tables`` are the assets' timed
    price rows (:func:`impact.backtest.engine.asset_tables`)."""
    runs = rule.placebo_runs
    if runs == 0 or trades.empty:
        return pd.DataFrame(columns=["run", "mean_return", "total_pnl"])
    rng = np.random.default_rng(rule.placebo_seed)
    net = np.zeros((runs, len(trades)))
    offset = rule.holding if rule.entry == "close" else rule.holding - 1
    for asset in dict.fromkeys(trades["asset"]):
        take = np.flatnonzero((trades["asset"] == asset).to_numpy())
        rows = tables[asset]
        close = rows["close"].to_numpy()
        entry_px = close if rule.entry == "close" else rows["open"].to_numpy()
        lo = int(np.searchsorted(rows["date"].to_numpy(), np.datetime64(start))) if start is not None else 0
        allowed = np.arange(lo, len(rows) - offset)
        allowed = allowed[np.isfinite(entry_px[allowed])]
        if not len(allowed):
            net[:, take] = np.nan
            continue
        picks = allowed[rng.integers(0, len(allowed), size=(runs, len(take)))]
        gross = trades["sign"].to_numpy()[take] * (close[picks + offset] / entry_px[picks] - 1.0)
        net[:, take] = gross - trades["cost"].to_numpy()[take]
    weights = trades["weight"].to_numpy()
    return pd.DataFrame({"run": np.arange(runs), "mean_return": net.mean(axis=1),
                         "total_pnl": (net * weights).sum(axis=1)})


def percentile(real: float, placebo: pd.Series) -> float:
    """Percent of placebo runs at or below the real statistic (NaN without runs)."""
    values = placebo.dropna().to_numpy(dtype=float)
    if not len(values) or not np.isfinite(real):
        return float("nan")
    return float(100.0 * (values <= real).mean())
