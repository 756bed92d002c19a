"""Parametric tests at their defaults and edges, by hand (issue 11, mutation testing:
benchmarks/MUTATION.md): every default argument called both implicitly and
explicitly (the numbers must be identical, and differ from the other setting), the
Lamb test's model check and messages matched in full, its t(T - 1) p-value, the
Brown–Warner p-values with ``df=None``, Patell with pairs of df = 2 and 3 (the
Var(SAR) = df / (df - 2) edge) and the Kolari–Pynnönen options passed through.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact import EventStudy, ImpactError
from impact.inference.inputs import inputs
from impact.inference.parametric import (
    _bmp,
    average_correlation,
    bmp,
    brown_warner_1980,
    brown_warner_1985,
    kolari_pynnonen,
    lamb,
    pair_t,
    patell,
    standardized,
)

CLEAN = {"contamination": "ignore", "roll_days": None}
EST, EV = (-80, -11), (-3, 3)
DAY0 = 200
ASSETS = ["A0", "A1", "A2", "A3"]
W = (-1, 1)


def frame(seed=5, short=None):
    """SYNTHETIC returns: market MKT and four assets; A1 misses 3 estimation days;
    ``short``: {asset: number of usable estimation rows} (the others set to NaN)."""
    rng = np.random.default_rng(seed)
    T = 260
    dates = pd.bdate_range("2021-01-01", periods=T)
    m = rng.normal(2e-4, 0.01, T)
    cols = {"MKT": m}
    for i, a in enumerate(ASSETS):
        cols[a] = 1e-4 * i + (0.6 + 0.2 * i) * m + rng.normal(0, 0.01, T)
        cols[a][DAY0] += 0.015 * (i - 1)
    f = pd.DataFrame(cols, index=pd.Index(dates, name="date"))
    f.iloc[[DAY0 - 70, DAY0 - 40, DAY0 - 20], f.columns.get_loc("A1")] = np.nan
    for a, keep in (short or {}).items():
        f.iloc[DAY0 + EST[0]:DAY0 + EST[1] + 1 - keep, f.columns.get_loc(a)] = np.nan
    return f


def study(f, model="market", **kw):
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[DAY0]]})
    return EventStudy.from_returns(f, events, market="MKT", model=model, estimation_window=EST, event_window=EV,
                                   assets=ASSETS, **CLEAN, **kw).fit()


@pytest.fixture(scope="module")
def inp():
    return inputs(study(frame()))


def same(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def test_standardized_defaults_are_ols_prediction_error_and_pair_rows(inp):
    for window in (None, W):
        implicit = standardized(inp, window)
        same(implicit, standardized(inp, window, sigma="ols", prediction_error=True, pe_rows="pair"))
        e, f, _ = inp.factors(window, prediction_error=True, pe_rows="pair")
        same(implicit, e / np.sqrt(np.asarray(inp.fit.sigma2)[:, None] * f))
        assert not np.allclose(implicit, standardized(inp, window, prediction_error=False))


def test_pair_t_defaults_are_ols_and_prediction_error(inp):
    implicit = pair_t(inp, W)
    explicit = pair_t(inp, W, sigma="ols", prediction_error=True, df=None)
    for key in ("t", "p_value", "df"):
        same(implicit[key], explicit[key])
    e, f, _ = inp.factors(W, prediction_error=True)
    t = e[:, 0] / np.sqrt(np.asarray(inp.fit.sigma2) * f[:, 0])
    np.testing.assert_allclose(implicit["t"], t, rtol=1e-12)
    np.testing.assert_allclose(implicit["p_value"], 2 * stats.t.sf(np.abs(t), np.asarray(inp.fit.df, dtype=float)),
                               rtol=1e-10)
    assert not np.allclose(implicit["t"], pair_t(inp, W, prediction_error=False)["t"])
    assert not np.allclose(implicit["t"], pair_t(inp, W, sigma="n")["t"])


def test_brown_warner_1980_with_the_prediction_error_factor_by_hand(inp):
    e, f, _ = inp.factors(W, prediction_error=True)
    s2 = np.asarray(inp.fit.sigma2)[:, None] * f
    stat = e.sum(axis=0) / np.sqrt(s2.sum(axis=0))
    df = s2.sum(axis=0) ** 2 / (s2**2 / np.asarray(inp.fit.df, dtype=float)[:, None]).sum(axis=0)
    out = brown_warner_1980(inp, W, prediction_error=True)
    np.testing.assert_allclose(out["statistic"], stat, rtol=1e-12)
    np.testing.assert_allclose(out["p_value"], 2 * stats.t.sf(np.abs(stat), df), rtol=1e-10)
    plain = brown_warner_1980(inp, W)  # default: no prediction-error factor
    same(plain["statistic"], brown_warner_1980(inp, W, prediction_error=False)["statistic"])
    assert not np.allclose(plain["statistic"], stat)


@pytest.mark.parametrize("window", [None, W])
def test_brown_warner_1985_p_value_is_t_with_t_est_minus_one(inp, window):
    out = brown_warner_1985(inp, window)
    T = len(inp.memo["aar_tau"])
    assert T == 70
    np.testing.assert_allclose(out["p_value"], 2 * stats.t.sf(np.abs(out["statistic"]), T - 1), rtol=1e-12)
    np.testing.assert_allclose(brown_warner_1985(inp, window, df=10)["p_value"],
                               2 * stats.t.sf(np.abs(out["statistic"]), 10), rtol=1e-12)


def lamb_by_hand(inp, window):
    daily = brown_warner_1985(inp, None)["statistic"]
    x = inp.x_est[0, :, 0]
    x = x[np.isfinite(x)]
    xbar, sxx = x.mean(), ((x - x.mean()) ** 2).sum()
    x_ev = inp.benchmark[0, :, 0]
    lbar = np.asarray(inp.n_obs, dtype=float).mean()
    if window is None:
        return daily / np.sqrt(1 + 1 / lbar + (x_ev - xbar) ** 2 / sxx)
    m = (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])
    D = m.sum()
    return np.array([daily[m].sum() / np.sqrt(D + D**2 / lbar + (x_ev[m].sum() - D * xbar) ** 2 / sxx)])


@pytest.mark.parametrize("window", [None, W])
def test_lamb_by_hand_with_its_t_est_minus_one_p_value(inp, window):
    out = lamb(inp, window)
    stat = lamb_by_hand(inp, window)
    np.testing.assert_allclose(out["statistic"], stat, rtol=1e-12)
    np.testing.assert_allclose(out["p_value"], 2 * stats.t.sf(np.abs(stat), 70 - 1), rtol=1e-12)
    np.testing.assert_allclose(lamb(inp, window, df=5)["p_value"], 2 * stats.t.sf(np.abs(stat), 5), rtol=1e-12)


def test_lamb_refuses_other_models_with_its_message_in_full():
    f = frame()
    ma = inputs(study(f, model="market_adjusted"))
    assert ma.x_est.shape[2] == 1 and ma.fit.model == "market_adjusted"  # one regressor, but not the market model
    with pytest.raises(ImpactError, match=r"^lamb: the test is defined for the single-index market model only$"):
        lamb(ma, W)
    cm = inputs(study(f, model="constant_mean"))
    with pytest.raises(ImpactError, match=r"^lamb: the test is defined for the single-index market model only$"):
        lamb(cm, W)
    with pytest.raises(ImpactError, match=re.escape("convention must be 'impact' or 'estudy2', got 'x'") + "$"):
        lamb(inputs(study(f)), W, convention="x")


def test_lamb_runs_on_a_garch_study_by_hand():
    pytest.importorskip("arch")
    g = inputs(study(frame(), model="garch"))
    assert g.fit.model == "garch"
    out = lamb(g, W)
    np.testing.assert_allclose(out["statistic"], lamb_by_hand(g, W), rtol=1e-12)


def test_patell_leaves_out_pairs_with_df_two_and_keeps_df_three():
    """A2 keeps 4 usable estimation rows (df = 2: Var(SAR) infinite, left out), A3 keeps
    5 (df = 3: Var(SAR) = 3, kept)."""
    inp = inputs(study(frame(short={"A2": 4, "A3": 5}), min_estimation_obs=4))
    df = np.asarray(inp.fit.df, dtype=float)
    assert list(df[2:]) == [2.0, 3.0]
    z = standardized(inp, W)[:, 0]
    assert np.isfinite(z).all()
    keep = df > 2
    stat = z[keep].sum() / np.sqrt((df[keep] / (df[keep] - 2)).sum())
    out = patell(inp, W)
    assert out["statistic"][0] == pytest.approx(stat, rel=1e-12)
    assert out["n"][0] == 3
    assert out["p_value"][0] == pytest.approx(2 * stats.norm.sf(abs(stat)), rel=1e-10)


def test_kolari_pynnonen_passes_prediction_error_and_pe_rows_through(inp):
    r = average_correlation(inp.resid)
    for opts in ({"prediction_error": False}, {"pe_rows": "benchmark"}, {}):
        z = standardized(inp, W, "ols", opts.get("prediction_error", True), opts.get("pe_rows", "pair"))
        stat, n, _ = _bmp(z)
        adj = stat * np.sqrt((1 - r) / (1 + (n - 1) * r))
        out = kolari_pynnonen(inp, W, **opts)
        np.testing.assert_allclose(out["statistic"], adj, rtol=1e-12)
        np.testing.assert_allclose(bmp(inp, W, **opts)["statistic"], stat, rtol=1e-12)
    assert not np.allclose(kolari_pynnonen(inp, W, prediction_error=False)["statistic"],
                           kolari_pynnonen(inp, W)["statistic"])
    assert not np.allclose(kolari_pynnonen(inp, W, pe_rows="benchmark")["statistic"],
                           kolari_pynnonen(inp, W)["statistic"])


def test_brown_warner_with_missing_event_returns_by_hand(inp):
    """SYNTHETIC gaps in the event ARs (the engine drops such pairs; the battery inputs
    are edited directly): A3 misses day +1, only A0 has day +2, nobody has day +3.
    Pairs without the window's CAR drop out of BW 1980; BW 1985 averages the pairs
    present per day (NaN on a day without any)."""
    ar = inp.ar.copy()
    ar[3, 4] = np.nan
    ar[1:, 5] = np.nan
    ar[:, 6] = np.nan
    inp = replace(inp, ar=ar, memo={})
    e, fac, _ = inp.factors(W, prediction_error=False)
    ok = np.isfinite(e[:, 0])
    assert list(ok) == [True, True, True, False]
    s2 = np.asarray(inp.fit.sigma2) * fac[:, 0]
    dfs = np.asarray(inp.fit.df, dtype=float)
    stat = e[ok, 0].sum() / np.sqrt(s2[ok].sum())
    df = s2[ok].sum() ** 2 / (s2[ok] ** 2 / dfs[ok]).sum()
    out = brown_warner_1980(inp, W)
    assert out["statistic"][0] == pytest.approx(stat, rel=1e-12)
    assert out["p_value"][0] == pytest.approx(2 * stats.t.sf(abs(stat), df), rel=1e-10)
    assert out["n"][0] == 3
    daily = brown_warner_1985(inp, None)
    n = np.isfinite(ar).sum(axis=0)
    assert list(n[-3:]) == [3, 1, 0]
    a_tau = inp.memo["aar_tau"]
    mean = np.array([np.nanmean(ar[:, j]) if n[j] else np.nan for j in range(ar.shape[1])])
    np.testing.assert_allclose(daily["statistic"], mean / a_tau.std(ddof=1), rtol=1e-12)
    assert np.isnan(daily["statistic"][-1]) and list(daily["n"]) == list(n)
