"""Inference for intraday windows: a time-of-day-matched placebo and the usual tests
across events.

Placebo: for each (event, asset) pair, the same window at the same *local clock time*
on ``n_placebo`` other days of that asset (drawn without replacement, seeded, from the
days with bars whose window at that clock time holds no event of the study and is
usable; all of them when there are fewer), fitted with the same model. Intraday
volatility has a strong time-of-day pattern (the open and the close are noisier than
lunchtime), so a 10:57 ET window is compared with 10:57 ET windows, not with random
minutes. The pair's p-value is ``(1 + #{|AR_placebo| >= |AR|}) / (1 + m)`` over its ``m``
usable placebo windows; the pooled p-value compares the mean AR of a group with the
means of the replicate draws (draw j of every pair), as in the bootstrap-by-pseudo-event
approach of the daily placebo (docs/methods.md "Placebo"); a pair with fewer usable days than
replicates has its missing draws resampled from its own days, so every replicate mean is
over the same pairs.

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
from ..study.extensions import extend
from ..study.intraday import event_instants, window_stats
from ..study.intraday_result import IntradayResult
from ..study.statistics import cross_sectional_t


def placebo_ars(result: IntradayResult, n_placebo: int = 199, seed: int = 0) -> np.ndarray:
    """Placebo abnormal returns, shape (pairs of ``result.windows``, ``n_placebo``);
    NaN where a drawn day gives no usable window."""
    rng = np.random.default_rng(seed)
    windows, s = result.windows, result.study
    out = np.full((len(windows), n_placebo), np.nan)
    bars = s.bars
    # a placebo window may not hold any event of the study (nor be the event's own day)
    every = np.sort(event_instants(s.events)[0]["instant"].dt.as_unit("ns").array.asi8)
    a, b = (v * 60_000_000_000 for v in s.window)
    for asset, rows in windows.groupby("asset", sort=False):
        zone = asset_zone(get_asset(asset))
        days = pd.DatetimeIndex(np.unique(bars["date"].to_numpy()[s.rows(asset)]))
        local = rows["instant"].dt.tz_convert(zone)
        own = local.dt.tz_localize(None).dt.normalize().to_numpy()
        clock = (local.dt.tz_localize(None) - local.dt.tz_localize(None).dt.normalize()).to_numpy()
        stamps = days.to_numpy()[None, :] + clock[:, None]  # pairs x candidate days
        instants = (pd.DatetimeIndex(stamps.ravel()).tz_localize(zone, nonexistent="NaT", ambiguous="NaT")
                    .tz_convert("UTC").as_unit("ns"))
        good = ~instants.isna()
        tau = np.where(good, instants.asi8, 0)
        clash = np.searchsorted(every, tau + b, side="right") > np.searchsorted(every, tau + a, side="right")
        good &= ~clash & (np.repeat(own, len(days)) != np.tile(days.to_numpy(), len(rows)))
        st = window_stats(result.points[asset], tau, s.window, s.estimation_window, s.model,
                          result.bench, s.across_close, s.min_bars)
        ar = np.where(good & (st["reason"] == ""), st["ar"], np.nan).reshape(len(rows), len(days))
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
    # replicate j: the mean of every pair's j-th placebo window, over the same pairs in every replicate
    placebo = placebo[np.isfinite(placebo).any(axis=1)]
    counts = np.isfinite(placebo).sum(axis=0)
    means = placebo.mean(axis=0) if len(placebo) and counts.min() == len(placebo) else np.zeros(0)
    mean = x.mean() if n else np.nan
    placebo_p = (1 + np.sum(np.abs(means) >= abs(mean) - 1e-15)) / (1 + len(means)) if len(means) else np.nan
    return {"n": n, "mean_ar": mean, "median_ar": np.median(x) if n else np.nan, "t_cs": cs["t"],
            "p_cs": cs["p_value"], "z_patell": z, "p_patell": 2 * stats.norm.sf(abs(z)) if n else np.nan,
            "positive": positive, "p_sign": sign_p, "p_wilcoxon": wilcoxon_p, "p_placebo": placebo_p,
            "n_placebo": len(means)}


def _complete(placebo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pairs with fewer usable placebo days than replicates: the missing draws resampled
    (with replacement) from the pair's own days, so that every replicate mean is over the
    same pairs; a mean over fewer pairs would be noisier and make the test conservative."""
    out = placebo.copy()
    for i in np.flatnonzero(np.isfinite(placebo).any(axis=1) & ~np.isfinite(placebo).all(axis=1)):
        have = placebo[i][np.isfinite(placebo[i])]
        gaps = ~np.isfinite(placebo[i])
        out[i, gaps] = rng.choice(have, size=int(gaps.sum()))
    return out


def intraday_tests(result: IntradayResult, n_placebo: int = 199, seed: int = 0) -> pd.DataFrame:
    """One row per asset and one pooled (``group = "all"``): mean AR, the tests across
    events and the time-of-day-matched placebo p-value; also adds each pair's own
    ``p_placebo`` to ``result.windows``."""
    if n_placebo < 1:
        raise ValueError("n_placebo must be at least 1")
    w = result.windows
    placebo = placebo_ars(result, n_placebo, seed)
    pooled = _complete(placebo, np.random.default_rng([seed, 1]))
    with np.errstate(invalid="ignore"):
        beyond = (np.abs(placebo) >= np.abs(w["ar"].to_numpy())[:, None] - 1e-15) & np.isfinite(placebo)
    usable = np.isfinite(placebo).sum(axis=1)
    w["p_placebo"] = np.where(usable > 0, (1 + beyond.sum(axis=1)) / (1 + usable), np.nan)
    rows = []
    for asset, idx in w.groupby("asset", sort=False).groups.items():
        i = np.asarray(idx)
        rows.append({"group": asset, **_group_tests(w["ar"].to_numpy()[i], w["se"].to_numpy()[i], pooled[i])})
    rows.append({"group": "all", **_group_tests(w["ar"].to_numpy(), w["se"].to_numpy(), pooled)})
    return pd.DataFrame(rows)


extend("intraday_tests", intraday_tests)  # result.tests() on an IntradayResult
