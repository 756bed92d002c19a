"""Numerical cuts and rarely-taken paths of the fits, the battery inputs and the placebo
(issue 11, mutation testing: benchmarks/MUTATION.md lists the survivors these kill).

* The zero-residual-variance cut is relative to the returns' own scale: sigma^2 at 10x
  ``1e-20 * mean(y^2)`` is kept, at 0.1x it is flagged (batched fit); the moment fit's
  cut is ``SSR <= 1e-12 * sum(y*^2)``.
* A regressor is "constant" when its centred sum of squares is at most ``1e-14 * n``
  (or ``1e-12`` of its raw sum of squares in the moment fit), whatever its level.
* Collinearity is judged on the correlation matrix: a factor with a tiny but genuine
  variance is not collinear; a correlation of 1 - 5e-11 is.
* A missing benchmark value drops that row only (fit residuals, battery, placebo, MVRM).
* The placebo with one model name refitted in several chunks, an ``ff3`` study's
  placebo, ``min_estimation_obs`` below p + 2, the last asset's series ending early on a
  one-row padding, and the error when no pseudo-date fits every asset of a cluster.

All data in this file is SYNTHETIC (seeded random numbers, or exact constructions),
labelled as such.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, ImpactError
from impact.inference import placebo as placebo_module
from impact.inference.inputs import inputs
from impact.inference.mvrm import mvrm
from impact.inference.placebo import _placebo_ar, _placebo_ar_sums, draw_positions, placebo_draws
from impact.study.models import fit_normal_returns
from impact.study.moments import fit_from_moments

ZERO_VAR = "zero residual variance in the estimation window (asset equals its benchmark?)"
FLAT = "benchmark returns constant over the estimation window"
COLLINEAR = "factors are collinear over the estimation window"
CLEAN = {"contamination": "ignore", "roll_days": None}


# -- the batched fit: zero residual variance relative to the returns' scale ------------

def level_series(model, ratio, n=50, seed=0):
    """y (and x) with a level of 1% a day dominating mean(y^2), and residual noise scaled so
    that sigma^2 = ratio * 1e-20 * mean(y^2) by hand (OLS on the usable rows)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1e-4, n)
    e = rng.normal(0, 1, n)
    if model == "market":
        X = np.column_stack([np.ones(n), x])
        e = e - X @ np.linalg.lstsq(X, e, rcond=None)[0]
        base = 0.01 + 0.5 * x
        df = n - 2
    else:
        e = e - e.mean()
        base = np.full(n, 0.01)
        df = n - 1
    scale = np.mean(base**2)       # mean(y^2) up to the noise's negligible share
    s2 = (e @ e) / df
    y = base + e * np.sqrt(ratio * 1e-20 * scale / s2)
    return y, x


@pytest.mark.parametrize("model", ["market", "constant_mean"])
@pytest.mark.parametrize("ratio, flagged", [(10.0, False), (0.1, True)])
def test_zero_variance_cut_is_relative_to_mean_squared_returns(model, ratio, flagged):
    y, x = level_series(model, ratio)
    fit = fit_normal_returns(model, y[None, :], x[None, :, None], np.ones((1, len(y)), dtype=bool), 10)
    # the hand quantities the cut compares
    X = np.column_stack([np.ones(len(y)), x]) if model == "market" else np.ones((len(y), 1))
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    sigma2 = resid @ resid / (len(y) - X.shape[1])
    assert sigma2 / (1e-20 * np.mean(y**2)) == pytest.approx(ratio, rel=1e-3)
    assert fit.problem[0] == (ZERO_VAR if flagged else "")
    if not flagged:
        assert fit.sigma2[0] == pytest.approx(sigma2, rel=1e-3)


def test_flat_regressor_cut_is_1e_14_per_row_in_the_batched_fit():
    rng = np.random.default_rng(1)
    n = 50
    y = rng.normal(0, 0.01, n)
    for centred_ss, flat in [(1e-14, True), (1e-11, False)]:
        d = rng.normal(0, 1, n)
        d -= d.mean()
        x = 0.001 + d * np.sqrt(centred_ss / (d @ d))
        fit = fit_normal_returns("market", y[None], x[None, :, None], np.ones((1, n), dtype=bool), 10)
        assert fit.problem[0] == (FLAT if flat else ""), centred_ss


def test_collinearity_is_judged_on_the_correlation_matrix():
    """A factor with a tiny genuine variance (sd 1e-6 a day) is identified; two factors with
    correlation 1 - 5e-11 are collinear; both by the smallest eigenvalue of the hand
    correlation matrix against 1e-10."""
    rng = np.random.default_rng(2)
    n = 50
    f1 = rng.normal(0, 0.01, n)
    g = rng.normal(0, 1, n)
    c1 = f1 - f1.mean()
    g = g - g.mean()
    g -= (g @ c1) / (c1 @ c1) * c1
    g *= np.sqrt((c1 @ c1) / (g @ g))            # orthogonal to f1, same sample variance
    y = 0.7 * f1 + rng.normal(0, 0.01, n)
    u = np.ones((1, n), dtype=bool)

    def smallest_eig(a, b):
        c = np.column_stack([a - a.mean(), b - b.mean()])
        sd = np.sqrt((c**2).sum(axis=0))
        return np.linalg.eigvalsh((c.T @ c) / np.outer(sd, sd))[0]

    tiny = 1e-6 * g / g.std()
    assert smallest_eig(f1, tiny) > 0.99
    fit = fit_normal_returns("factors", y[None], np.column_stack([f1, tiny])[None], u, 10)
    assert fit.problem[0] == ""
    X = np.column_stack([np.ones(n), f1, tiny])
    np.testing.assert_allclose(fit.beta[0], np.linalg.lstsq(X, y, rcond=None)[0][1:], rtol=1e-8)

    near = f1 + 1e-5 * g                          # corr = 1 / sqrt(1 + 1e-10): 1 - corr = 5e-11
    assert 4e-11 < smallest_eig(f1, near) < 6e-11
    fit = fit_normal_returns("factors", y[None], np.column_stack([f1, near])[None], u, 10)
    assert fit.problem[0] == COLLINEAR


# -- the moment fit's cuts ---------------------------------------------------------------

def moments(n, sy, sx, sxx, sxy, syy):
    a = np.asarray
    return dict(n=a([float(n)]), sy=a([sy]), sx=a([[sx]]), sxx=a([[[sxx]]]), sxy=a([[sxy]]), syy=a([syy]),
                shift_y=np.zeros(1), shift_x=np.zeros((1, 1)), min_obs=10)


@pytest.mark.parametrize("sx, centred_ss, flat", [
    (0.0, 1e-14, True),      # at most 1e-14 * n = 6.4e-13
    (0.0, 1e-11, False),
    (64.0, 1e-11, True),     # level 1: at most 1e-12 of the raw sum 64 (6.4e-11)
    (64.0, 1e-9, False),
])
def test_flat_regressor_cut_in_the_moment_fit(sx, centred_ss, flat):
    n = 64
    sxx = sx * sx / n + centred_ss
    fit = fit_from_moments("market", **moments(n, 0.0, sx, sxx, 0.0, 1e-2))
    assert fit.problem[0] == (FLAT if flat else "")


@pytest.mark.parametrize("ssr, tiny", [(1e-16, True), (1e-13, False), (1e-10, False)])
def test_zero_variance_cut_in_the_moment_fit(ssr, tiny):
    """constant_mean on 64 rows with a mean of 1% a day: SSR = Syy - n ybar^2, flagged when
    at most 1e-12 * Syy (6.4e-15 here)."""
    n, ybar = 64, 0.01
    fit = fit_from_moments("constant_mean", **moments(n, n * ybar, 0.0, 1.0, 0.0, n * ybar**2 + ssr))
    assert fit.problem[0] == (ZERO_VAR if tiny else "")
    if not tiny:
        assert fit.sigma2[0] == pytest.approx(ssr / (n - 1), rel=1e-3)


# -- studies with a missing benchmark value, tiny factors and short windows ---------------

T, DAY0, EST, EV = 300, 250, (-60, -11), (-3, 3)


def frame(seed=5, n=3):
    """SYNTHETIC: market MKT with a NaN on row 200 and a near-constant stretch (rows 20-89),
    assets A0.. = beta MKT + noise, factors F1 (= MKT) and F2 (sd 1e-6 on rows 0-119)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2019-01-01", periods=T)
    m = rng.normal(0, 0.01, T)
    m[20:90] = 0.002 + rng.normal(0, 1, 70) * 1e-9     # centred sum of squares ~ 5e-17 per 50 rows
    cols = {"MKT": m, **{f"A{i}": (0.5 + 0.3 * i) * np.nan_to_num(m) + rng.normal(0, 0.01, T) for i in range(n)}}
    f = pd.DataFrame(cols, index=pd.Index(dates, name="date"))
    f2 = rng.normal(0, 0.007, T)
    f2[:120] = rng.normal(0, 1e-6, 120)
    factors = pd.DataFrame({"F1": m.copy(), "F2": f2}, index=dates)
    f.iloc[200, 0] = np.nan
    factors.iloc[200, 0] = np.nan
    return f, factors


def study(f, factors=None, model="market", day0=DAY0, est=EST, ev=EV, **kw):
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[day0]]})
    if model in ("factors", "ff3"):
        kw["factors"] = factors
        f = f.drop(columns="MKT")
    return EventStudy.from_returns(f, events, market=None if model in ("factors", "ff3") else "MKT", model=model,
                                   estimation_window=est, event_window=ev, **CLEAN, **kw).fit()


def hand_ar(y, X, p0, est=EST, ev=EV, need=4):
    """One pseudo pair's ARs by least squares on its usable estimation rows (NaN if unfit)."""
    e, w = np.arange(p0 + est[0], p0 + est[1] + 1), np.arange(p0 + ev[0], p0 + ev[1] + 1)
    ok = np.isfinite(y[e]) & np.isfinite(X[e]).all(axis=1)
    if ok.sum() < need:
        return np.full(len(w), np.nan)
    A = np.column_stack([np.ones(ok.sum()), X[e][ok]])
    coef = np.linalg.lstsq(A, y[e][ok], rcond=None)[0]
    return y[w] - coef[0] - X[w] @ coef[1:]


def test_a_missing_benchmark_value_drops_that_row_only():
    """MKT is missing on row 200, inside the estimation window of the day-0 row 250: the fit,
    the battery residuals and the MVRM system use the other 49 rows."""
    f, _ = frame()
    res = study(f)
    assert list(res.fit.n_obs) == [49, 49, 49]
    inp = inputs(res)
    assert (np.isfinite(inp.resid).sum(axis=1) == 49).all()
    y, x = f["A1"].to_numpy(), f[["MKT"]].to_numpy()
    np.testing.assert_allclose(res.abnormal[1], hand_ar(y, x, DAY0), rtol=1e-9)
    out = mvrm(res)
    assert out.excluded.empty
    assert set(out.tests["n_obs"]) == {49 + 7}
    assert np.isfinite(out.tests["statistic"]).all()


def test_placebo_refits_around_a_missing_benchmark_value():
    """Pseudo day-0 rows whose estimation windows cover the missing MKT value: the batched
    refit and the running-sum path equal least squares on the other rows."""
    f, _ = frame()
    res = study(f)
    pos = res.rows.lo[None, :] + np.array([[230], [215]])
    slow, fast = _placebo_ar(res, pos), _placebo_ar_sums(res, pos)
    x = f[["MKT"]].to_numpy()
    for b, p0 in enumerate([230, 215]):
        for i in range(3):
            want = hand_ar(f[f"A{i}"].to_numpy(), x, p0)
            assert np.isfinite(want).all()
            np.testing.assert_allclose(slow[b, i], want, rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(fast[b, i], want, rtol=1e-7, atol=1e-12)


def test_placebo_flags_a_near_constant_benchmark():
    """Rows 20-89 of MKT vary by ~1e-9 (centred sum of squares far below 1e-14 * 50): pseudo
    windows there are unfit on both placebo paths; windows on ordinary rows are fitted."""
    f, _ = frame()
    res = study(f)
    pos = res.rows.lo[None, :] + np.array([[90], [150]])   # estimation rows 30-79 (flat) / 90-139
    for ar in (_placebo_ar(res, pos), _placebo_ar_sums(res, pos)):
        assert np.isnan(ar[0]).all() and np.isfinite(ar[1]).all()


def test_placebo_keeps_a_factor_with_a_tiny_variance():
    """SYNTHETIC: F2 has sd 1e-6 on every row: every factor-model pseudo window is fitted
    (its correlation with F1 is ordinary); both placebo paths equal least squares."""
    f, factors = frame()
    factors = factors.assign(F2=np.random.default_rng(8).normal(0, 1e-6, T))
    fres = study(f, factors, model="factors")
    assert (fres.fit.problem == "").all()
    pos = fres.rows.lo[None, :] + np.array([[130], [180], [230]])
    slow, fast = _placebo_ar(fres, pos), _placebo_ar_sums(fres, pos)
    X = factors.to_numpy()
    for b, p0 in enumerate([130, 180, 230]):
        for i in range(3):
            want = hand_ar(f[f"A{i}"].to_numpy(), X, p0, need=5)
            assert np.isfinite(want).all()
            np.testing.assert_allclose(slow[b, i], want, rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(fast[b, i], want, rtol=1e-6, atol=1e-11)


def test_placebo_with_min_estimation_obs_below_p_plus_2():
    """min_estimation_obs=2 on a 5-row estimation window: the market model still needs
    p + 2 = 4 usable rows; a pseudo window with 4 is fitted, one with 3 is not."""
    f, _ = frame()
    f = f.copy()
    f.iloc[[141, 142], f.columns.get_loc("A0")] = np.nan   # est rows 140-144 of p0 = 148: 3 usable
    f.iloc[[161], f.columns.get_loc("A0")] = np.nan        # est rows 160-164 of p0 = 168: 4 usable
    est, ev = (-8, -4), (-1, 1)
    res = study(f, est=est, ev=ev, min_estimation_obs=2)
    pos = res.rows.lo[None, :] + np.array([[148], [168]])
    x = f[["MKT"]].to_numpy()
    for ar in (_placebo_ar(res, pos), _placebo_ar_sums(res, pos)):
        assert np.isnan(ar[0, 0]).all()
        np.testing.assert_allclose(ar[1, 0], hand_ar(f["A0"].to_numpy(), x, 168, est, ev), rtol=1e-7)
        assert np.isfinite(ar[:, 1:]).all()


def test_placebo_refit_of_one_model_in_one_pair_chunks(monkeypatch):
    f, _ = frame()
    res = study(f)
    pos = draw_positions(res, 5, seed=4)
    whole = _placebo_ar(res, pos)
    monkeypatch.setattr(placebo_module, "CHUNK_CELLS", 1)
    np.testing.assert_allclose(_placebo_ar(res, pos), whole, rtol=1e-13, atol=1e-16)


def test_ff3_placebo_equals_a_rerun_on_the_drawn_date():
    """An ff3 study's placebo is supported: each draw equals the study re-run on its date."""
    idx = pd.bdate_range("2024-01-02", "2025-09-30")
    rng = np.random.default_rng(11)
    f = pd.DataFrame({f"A{i}": rng.normal(0, 0.01, len(idx)) for i in range(2)}, index=pd.Index(idx, name="date"))
    events = pd.DataFrame({"event_id": ["e"], "date": [idx[-20]]})
    kw = dict(market=None, model="ff3", estimation_window=EST, event_window=(0, 1), **CLEAN)
    res = EventStudy.from_returns(f, events, **kw).fit()
    observed, draws, positions = placebo_draws(res, (0, 1), n_draws=3, seed=1)
    assert np.isfinite(draws).all()
    for b in range(3):
        date = pd.Timestamp(res.rows.D[positions[b, 0]])
        rerun = EventStudy.from_returns(f, pd.DataFrame({"event_id": ["e"], "date": [date]}), **kw).fit()
        want, _, _ = placebo_draws(rerun, (0, 1), n_draws=1)
        assert draws[b, 0] == pytest.approx(want[0], rel=1e-9)


@pytest.mark.parametrize("statistic", ["patell", "bmp"])
def test_placebo_statistic_with_a_mixed_model_and_an_unfit_pseudo_pair(monkeypatch, statistic):
    """Mixed models (A1 constant_mean), A2 missing on rows 150-189 (its pseudo pair at day 0
    = row 205 cannot be fitted) and MKT missing on row 200 (inside the estimation window of
    day 0 = row 240): each draw's statistic equals the test of the study re-run on the
    drawn date."""
    f, _ = frame()
    f = f.copy()
    f.iloc[150:190, f.columns.get_loc("A2")] = np.nan
    model = {"default": "market", "A1": "constant_mean"}
    res = study(f, model=model)
    offsets = np.array([205, 240, 140])
    monkeypatch.setattr(placebo_module, "draw_positions",
                        lambda result, n, *a, **kw: result.rows.lo[None, :] + offsets[:n, None])
    _, draws, positions = placebo_draws(res, (-1, 1), statistic=statistic, n_draws=3)
    for b in range(3):
        rerun = study(f, model=model, day0=int(offsets[b]))
        if b == 0:
            assert list(rerun.pairs["asset"]) == ["A0", "A1"]     # A2 unfit there
        want = rerun.test(statistic, window=(-1, 1))["statistic"].iloc[0]
        assert draws[b, 0] == pytest.approx(want, rel=1e-9)


def test_placebo_draws_when_the_last_asset_ends_early_on_one_padding_row():
    """Prices path (series trimmed to their data), moments engine and a one-day event window:
    one padding row after the last asset. B's prices stop 20 sessions before A's; shared
    pseudo-dates are drawn inside both series, on the same date for both."""
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=T)
    p = pd.DataFrame({s: 100 * np.exp(np.cumsum(rng.normal(0, 0.01, T))) for s in ["MKT", "A", "B"]}, index=idx)
    p.iloc[280:, 2] = np.nan
    long = p.stack().rename("close").reset_index()
    long.columns = ["date", "symbol", "close"]
    events = pd.DataFrame({"event_id": ["e"], "date": [idx[200]]})
    st = EventStudy(long, events, market="MKT", estimation_window=EST, event_window=(0, 0), **CLEAN)
    st.engine = "moments"
    res = st.fit()
    rows = res.rows
    assert len(rows.D) == rows.hi.max() + 1                  # one padding row at the end
    pos = draw_positions(res, 200, seed=5)
    dates = rows.D[pos]
    assert (dates[:, 0] == dates[:, 1]).all()
    assert (pos[:, 1] < rows.hi[1]).all() and (dates[:, 1] <= np.datetime64(idx[279])).all()


def test_no_common_pseudo_date_for_a_cluster_is_a_one_line_error():
    """A0 has events every 10 sessions (one gap, at row 156) and A1 one event at row 156:
    no pseudo-date keeps clear of both assets' real windows at once."""
    rng = np.random.default_rng(6)
    n = 270
    idx = pd.bdate_range("2020-01-01", periods=n)
    m = rng.normal(0, 0.01, n)
    f = pd.DataFrame({"MKT": m, "A0": m + rng.normal(0, 0.01, n), "A1": m + rng.normal(0, 0.01, n)},
                     index=pd.Index(idx, name="date"))
    a0 = [66 + 10 * j for j in range(21) if j != 9]
    events = pd.DataFrame({"event_id": [f"a{r}" for r in a0] + ["b"], "date": [idx[r] for r in a0] + [idx[156]],
                           "asset": ["A0"] * len(a0) + ["A1"]})
    res = EventStudy.from_returns(f, events, market="MKT", estimation_window=EST, event_window=EV,
                                  min_estimation_obs=30, **CLEAN).fit()
    assert len(res.pairs) == len(a0) + 1
    pair_draws = draw_positions(res, 4, clusters="pair")
    assert pair_draws.shape == (4, len(a0) + 1)
    with pytest.raises(ImpactError, match="^" + re.escape(
            "placebo: no pseudo-date is admissible for every asset of g at once "
            "(their real event windows cover every candidate); use clusters='pair'") + "$"):
        draw_positions(res, 4, clusters=np.array(["g"] * len(res.pairs)))


# -- the estudy2 variance factor on benchmark rows ------------------------------------------

def test_estudy2_factor_over_a_three_day_window_by_hand():
    """pe_rows="benchmark": f = d + d^2 / n_i + s' (Xc'Xc)^-1 s with xbar and Xc over the
    estimation rows where the benchmark is observed and s = sum over the window's days of
    (x_t - xbar). A pair whose benchmark is observed on a single estimation row has Xc = 0:
    f = d + d^2 / n_i."""
    f, _ = frame()
    res = study(f)
    inp = inputs(res)
    e, fac, days = inp.factors((-1, 1), pe_rows="benchmark")
    assert list(days) == [3.0]
    g = res.rows.gather(np.arange(EST[0], EST[1] + 1), dates=False)
    w = res.rows.gather(np.arange(-1, 2), dates=False)
    for i in range(len(res.pairs)):
        x = g["x"][i, :, 0]
        ok = np.isfinite(x)
        xbar = x[ok].mean()
        sxx = ((x[ok] - xbar) ** 2).sum()
        s = (w["x"][i, :, 0] - xbar).sum()
        assert fac[i, 0] == pytest.approx(3 + 9 / inp.n_obs[i] + s * s / sxx, rel=1e-12)
    one = inp.x_est.copy()
    one[0, 1:, :] = np.nan
    _, fac1, _ = replace(inp, x_est=one, memo={}).factors((-1, 1), pe_rows="benchmark")
    assert fac1[0, 0] == pytest.approx(3 + 9 / inp.n_obs[0], rel=1e-14)
    assert fac1[1, 0] == fac[1, 0]
