"""Inference for intraday windows: a time-of-day-matched placebo and the usual tests
across events.

Placebo: for each (event, asset) pair, the same window at the same *local clock time*
on ``n_placebo`` other sessions of that asset (drawn without replacement, seeded, from
the days with bars that hold no event of the study and give a usable window; all of
them when there are fewer), fitted with the same model. Intraday
volatility has a strong time-of-day pattern (the open and the close are noisier than
lunchtime), so a 10:57 ET window is compared with 10:57 ET windows, not with random
minutes. The pair's p-value is ``(1 + #{|AR_placebo| >= |AR|}) / (1 + m)`` over its ``m``
usable placebo windows; the pooled p-value compares the mean AR of a group with the
means of the replicate draws (draw j of every pair), as in the bootstrap-by-pseudo-event
approach of the daily placebo (docs/methods.md "Placebo").

Tests across events per group: the cross-sectional t (Brown & Warner 1985), the
standardised-AR z (Patell 1976, AR / its own s.e.), the sign test and Wilcoxon's
signed-rank test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..events.assets import get_asset
from ..events.calendars import asset_zone
from ..study.intraday import event_instants, window_stats
from ..study.intraday_result import IntradayResult
from ..study.result import extend
from ..study.statistics import cross_sectional_t


def placebo_ars(result: IntradayResult, n_placebo: int = 199, seed: int = 0) -> np.ndarray:
    """Placebo abnormal returns, shape (pairs of ``result.windows``, ``n_placebo``);
    NaN where a drawn day gives no usable window."""
    rng = np.random.default_rng(seed)
    windows, s = result.windows, result.study
    out = np.full((len(windows), n_placebo), np.nan)
    bars = s.bars
    every = event_instants(s.events)[0]["instant"]  # no placebo on a day with any event of the study
    for asset, rows in windows.groupby("asset", sort=False):
        zone = asset_zone(get_asset(asset))
        days = pd.DatetimeIndex(bars.loc[bars["symbol"] == asset, "date"].unique())
        local = rows["instant"].dt.tz_convert(zone)
        event_days = every.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
        candidates = days[~days.isin(event_days)]
        if len(candidates) == 0:
            continue
        clock = (local.dt.tz_localize(None) - local.dt.tz_localize(None).dt.normalize()).to_numpy()
        stamps = candidates.to_numpy()[None, :] + clock[:, None]  # pairs x candidate days
        instants = (pd.DatetimeIndex(stamps.ravel()).tz_localize(zone, nonexistent="NaT", ambiguous="NaT")
                    .tz_convert("UTC").as_unit("ns"))
        good = ~instants.isna()
        st = window_stats(result.points[asset], np.where(good, instants.asi8, 0), s.window, s.estimation_window, s.model,
                          result.bench, s.across_close, s.min_bars)
        ar = np.where(good & (st["reason"] == ""), st["ar"], np.nan).reshape(len(rows), len(candidates))
        # n_placebo usable days per pair, without replacement, in a seeded random order
        keys = np.where(np.isfinite(ar), rng.random(ar.shape), np.inf)
        order = np.argsort(keys, axis=1)[:, :n_placebo]
        drawn = np.take_along_axis(ar, order, axis=1)
        out[rows.index.to_numpy(), :drawn.shape[1]] = drawn
    return out


def _group_tests(ar: np.ndarray, se: np.ndarray, placebo: np.ndarray) -> dict:
    x = ar[np.isfinite(ar)]
    n = len(x)
    cs = cross_sectional_t(pd.Series(x))
    z = np.sum(ar / se) / np.sqrt(n) if n else np.nan
    positive = int((x > 0).sum())
    sign_p = stats.binomtest(positive, n, 0.5).pvalue if n else np.nan
    wilcoxon_p = stats.wilcoxon(x).pvalue if n >= 6 and np.any(x != 0) else np.nan
    # replicate j: the mean of every pair's j-th placebo window (pairs with fewer days drop out)
    counts = np.isfinite(placebo).sum(axis=0)
    means = np.nansum(placebo, axis=0)[counts > 0] / counts[counts > 0]
    mean = x.mean() if n else np.nan
    placebo_p = (1 + np.sum(np.abs(means) >= abs(mean) - 1e-15)) / (1 + len(means)) if len(means) else np.nan
    return {"n": n, "mean_ar": mean, "median_ar": np.median(x) if n else np.nan, "t_cs": cs["t"],
            "p_cs": cs["p_value"], "z_patell": z, "p_patell": 2 * stats.norm.sf(abs(z)) if n else np.nan,
            "positive": positive, "p_sign": sign_p, "p_wilcoxon": wilcoxon_p, "p_placebo": placebo_p,
            "n_placebo": len(means)}


def intraday_tests(result: IntradayResult, n_placebo: int = 199, seed: int = 0) -> pd.DataFrame:
    """One row per asset and one pooled (``group = "all"``): mean AR, the tests across
    events and the time-of-day-matched placebo p-value; also adds each pair's own
    ``p_placebo`` to ``result.windows``."""
    if n_placebo < 1:
        raise ValueError("n_placebo must be at least 1")
    w = result.windows
    placebo = placebo_ars(result, n_placebo, seed)
    with np.errstate(invalid="ignore"):
        beyond = (np.abs(placebo) >= np.abs(w["ar"].to_numpy())[:, None] - 1e-15) & np.isfinite(placebo)
    usable = np.isfinite(placebo).sum(axis=1)
    w["p_placebo"] = np.where(usable > 0, (1 + beyond.sum(axis=1)) / (1 + usable), np.nan)
    rows = []
    for asset, idx in w.groupby("asset", sort=False).groups.items():
        i = np.asarray(idx)
        rows.append({"group": asset, **_group_tests(w["ar"].to_numpy()[i], w["se"].to_numpy()[i], placebo[i])})
    rows.append({"group": "all", **_group_tests(w["ar"].to_numpy(), w["se"].to_numpy(), placebo)})
    return pd.DataFrame(rows)


extend("intraday_tests", intraday_tests)  # result.tests() on an IntradayResult
