"""MVRM (Binder 1985) checked column by column against a hand-written SUR, at the
boundaries of its sample rules, and its one-line errors matched in full (issue 11,
mutation testing: benchmarks/MUTATION.md).

With one market for every asset the regressors are identical, so SUR-GLS is OLS
equation by equation (Zellner 1962) and Cov(b) = Sigma (x) (X'X)^-1; Sigma is
E'E / (T - K) (``debiased=True``) or E'E / T. Estimation rows are the dates on which
every asset is usable, then one row per event day with its own dummy.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact import EventStudy, ImpactError
from impact.inference.mvrm import TEST_COLUMNS, _singular_residuals, mvrm, wald_statistic

CLEAN = {"contamination": "ignore", "roll_days": None}
EST, EV = (-12, -5), (-1, 1)
P0 = 30


def toy_frame(seed=1, T=40, n_assets=2):
    """SYNTHETIC returns: a market and assets A, B(, C) = beta * market + noise."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=T)
    m = rng.normal(0, 0.01, T)
    cols = {"MKT": m}
    for i, name in enumerate("ABC"[:n_assets]):
        cols[name] = (0.8 + 0.3 * i) * m + rng.normal(0, 0.01, T)
    return pd.DataFrame(cols, index=dates)


def toy_study(frame, missing=None, model="market", events=None, min_obs=3):
    g = frame.copy()
    for asset, rows in (missing or {}).items():
        for r in rows:
            g.iloc[P0 + EST[0] + r, g.columns.get_loc(asset)] = np.nan
    if events is None:
        events = pd.DataFrame({"event_id": ["e"], "date": [g.index[P0]]})
    return g, EventStudy.from_returns(g, events, market="MKT", model=model, estimation_window=EST,
                                      event_window=EV, min_estimation_obs=min_obs, **CLEAN).fit()


def hand_sur(frame, assets, p0, model="market", debiased=True):
    """Equation-by-equation OLS on the common usable estimation dates plus the event rows."""
    est = np.arange(p0 + EST[0], p0 + EST[1] + 1)
    ev = np.arange(p0 + EV[0], p0 + EV[1] + 1)
    Y_all = frame[list(assets)].to_numpy()
    common = est[np.isfinite(Y_all[est]).all(axis=1)]
    rows = np.concatenate([common, ev])
    W = len(ev)
    dummies = np.vstack([np.zeros((len(common), W)), np.eye(W)])
    reg = [np.ones(len(rows))] + ([frame["MKT"].to_numpy()[rows]] if model == "market" else [])
    X = np.column_stack([*reg, dummies])
    Y = Y_all[rows]
    T, K = X.shape
    B = np.linalg.solve(X.T @ X, X.T @ Y)
    E = Y - X @ B
    sigma = E.T @ E / ((T - K) if debiased else T)
    return dict(B=B, sigma=sigma, xtx_inv=np.linalg.inv(X.T @ X), T=T, K=K, n_dummy0=K - W, t_est=len(common))


def hand_tests(h, window, effect):
    """Wald rows (zero, equal) and per-asset effects from the hand SUR."""
    B, sigma, A = h["B"], h["sigma"], h["xtx_inv"]
    N = B.shape[1]
    days = [h["n_dummy0"] + d - EV[0] for d in range(window[0], window[1] + 1)]
    if effect == "cumulative":
        C = np.zeros((1, h["K"]))
        C[0, days] = 1.0
    else:
        C = np.zeros((len(days), h["K"]))
        C[np.arange(len(days)), days] = 1.0
    m = C.shape[0]
    g = (C @ B).T.reshape(-1)              # asset-major: (asset, day)
    V = np.kron(sigma, C @ A @ C.T)
    out = []
    D = np.kron(np.column_stack([np.eye(N - 1), -np.ones(N - 1)]), np.eye(m)) if N > 1 else None
    for hyp, R in (("zero", np.eye(N * m)), ("equal", D)):
        if R is None:
            continue
        w = float((R @ g) @ np.linalg.solve(R @ V @ R.T, R @ g))
        out.append((hyp, w, R.shape[0]))
    c = np.zeros(h["K"])
    c[days] = 1.0
    eff = c @ B
    se = np.sqrt(np.diag(sigma) * (c @ A @ c))
    return out, eff, se


@pytest.mark.parametrize("effect", ["cumulative", "daily"])
@pytest.mark.parametrize("debiased", [True, False])
@pytest.mark.parametrize("window", [(-1, 1), (0, 1)])
def test_every_mvrm_column_by_hand(effect, debiased, window):
    frame, res = toy_study(toy_frame(n_assets=3), missing={"A": [0], "B": [7]})
    out = mvrm(res, window, effect=effect, debiased=debiased)
    h = hand_sur(frame, "ABC", P0, debiased=debiased)
    assert h["t_est"] == 6 and h["T"] == 9 and h["K"] == 5
    rows, eff, se = hand_tests(h, window, effect)
    label = f"[{window[0]},{window[1]}]"
    assert list(out.tests.columns) == TEST_COLUMNS
    assert list(out.tests["hypothesis"]) == ["zero", "equal"]
    denom = 3 * (h["T"] - h["K"])
    for (hyp, w, q), (_, got) in zip(rows, out.tests.iterrows()):
        assert got["event_id"] == "e" and got["window"] == label and got["hypothesis"] == hyp
        assert got["df"] == q and got["n_assets"] == 3 and got["n_obs"] == h["T"]
        assert got["statistic"] == pytest.approx(w, rel=1e-8)
        assert got["p_value"] == pytest.approx(stats.chi2.sf(w, q), rel=1e-7)
        assert got["f_stat"] == pytest.approx(w / q, rel=1e-8)
        assert got["f_df_denom"] == denom
        assert got["f_p_value"] == pytest.approx(stats.f.sf(w / q, q, denom), rel=1e-7)
    n_days = window[1] - window[0] + 1
    assert [q for _, _, q in rows] == ([3, 2] if effect == "cumulative" else [3 * n_days, 2 * n_days])
    assert list(out.effects.columns) == ["event_id", "asset", "window", "effect", "se", "t"]
    assert list(out.effects["asset"]) == ["A", "B", "C"]
    assert (out.effects["window"] == label).all() and (out.effects["event_id"] == "e").all()
    np.testing.assert_allclose(out.effects["effect"], eff, rtol=1e-9)
    np.testing.assert_allclose(out.effects["se"], se, rtol=1e-9)
    np.testing.assert_allclose(out.effects["t"], eff / se, rtol=1e-9)
    assert list(out.excluded.columns) == ["event_id", "asset", "reason"] and out.excluded.empty
    assert set(out.fits) == {"e"}


def test_mvrm_default_window_is_the_event_window():
    _, res = toy_study(toy_frame())
    pd.testing.assert_frame_equal(mvrm(res).tests, mvrm(res, EV).tests)
    assert list(mvrm(res).tests["window"]) == ["[-1,1]", "[-1,1]"]


@pytest.mark.parametrize("model,k", [("market", 1), ("constant_mean", 0)])
def test_common_estimation_dates_at_the_boundary(model, k):
    """An event is tested with exactly 1 + k + 2 common estimation dates and excluded with
    one fewer, even though each asset alone has enough rows."""
    need = 1 + k + 2
    # 8 estimation rows: A misses 2, B 6 - need others, so need dates are common
    miss_b = list(range(2, 2 + (6 - need)))
    frame, res = toy_study(toy_frame(), missing={"A": [0, 1], "B": miss_b}, model=model)
    h = hand_sur(frame, "AB", P0, model=model)
    assert h["t_est"] == need
    out = mvrm(res)
    assert out.excluded.empty and len(out.tests) == 2
    rows, eff, se = hand_tests(h, EV, "cumulative")
    np.testing.assert_allclose(out.tests["statistic"], [w for _, w, _ in rows], rtol=1e-8)
    np.testing.assert_allclose(out.effects["effect"], eff, rtol=1e-9)
    np.testing.assert_allclose(out.effects["se"], se, rtol=1e-9)
    assert (out.tests["n_obs"] == need + 3).all()
    assert (out.tests["f_df_denom"] == 2 * (need + 3 - (1 + k + 3))).all()
    # one fewer common date: excluded, with the count in the reason
    frame, res = toy_study(toy_frame(), missing={"A": [0, 1], "B": [*miss_b, 7]}, model=model)
    assert len(res.pairs) == 2  # both pairs were fitted by the study
    out = mvrm(res)
    assert out.tests.empty and out.effects.empty and out.fits == {}
    assert list(out.tests.columns) == TEST_COLUMNS
    assert out.excluded.to_dict("records") == [
        {"event_id": "e", "asset": "", "reason": f"only {need - 1} common estimation dates for 2 assets"}]


def test_events_subset_and_one_excluded_event_among_two():
    frame = toy_frame(T=60)
    dates = frame.index
    events = pd.DataFrame({"event_id": ["e1", "e2"], "date": [dates[P0], dates[50]]})
    g = frame.copy()
    # e2: A and B miss disjoint estimation rows so only 3 dates are common
    for r in range(0, 3):
        g.iloc[50 + EST[0] + r, 1] = np.nan
    for r in range(3, 5):
        g.iloc[50 + EST[0] + r, 2] = np.nan
    res = EventStudy.from_returns(g, events, market="MKT", estimation_window=EST, event_window=EV,
                                  min_estimation_obs=3, **CLEAN).fit()
    out = mvrm(res)
    assert list(out.tests["event_id"]) == ["e1", "e1"]
    assert out.excluded.to_dict("records") == [
        {"event_id": "e2", "asset": "", "reason": "only 3 common estimation dates for 2 assets"}]
    only = mvrm(res, events=["e1"])
    pd.testing.assert_frame_equal(only.tests, out.tests)
    assert only.excluded.empty
    h = hand_sur(g, "AB", P0)
    rows, _, _ = hand_tests(h, EV, "cumulative")
    np.testing.assert_allclose(only.tests["statistic"], [w for _, w, _ in rows], rtol=1e-8)


def test_wald_statistic_by_hand():
    b = np.array([1.0, 2.0, -1.0])
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]])
    R = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]])
    rb = R @ b
    w, q = wald_statistic(b, cov, R)
    assert q == 2
    assert w == pytest.approx(float(rb @ np.linalg.inv(R @ cov @ R.T) @ rb), rel=1e-12)
    assert wald_statistic(b, cov, np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]))[1] == 1


def test_mvrm_errors_are_exact_one_liners():
    frame, res = toy_study(toy_frame())
    with pytest.raises(ImpactError, match=re.escape("unknown mvrm effect 'weekly' (choose from cumulative, daily)")):
        mvrm(res, effect="weekly")
    with pytest.raises(ImpactError, match=re.escape("mvrm: event(s) x, y have no estimated pairs in this result")):
        mvrm(res, events=["x", "e", "y"])
    _, adj = toy_study(toy_frame(), model="market_adjusted")
    with pytest.raises(ImpactError, match=re.escape(
            "mvrm needs a regression normal-return model (market, ff3, factors, constant_mean), "
            "not 'market_adjusted'")):
        mvrm(adj)
    res.rows = None
    with pytest.raises(ImpactError, match=re.escape(
            "this result keeps no estimation rows; re-fit the study to run mvrm")):
        mvrm(res)


def test_identical_assets_are_an_excluded_event_with_the_reason():
    frame = toy_frame()
    frame["B"] = frame["A"]
    _, res = toy_study(frame)
    out = mvrm(res)
    assert out.tests.empty and out.fits == {}
    (row,) = out.excluded.to_dict("records")
    assert row["event_id"] == "e" and row["asset"] == ""
    # linearmodels 7 returns NaN estimates for a singular residual covariance instead of
    # raising: the check before the fit names the pair
    assert row["reason"] == ("SUR estimation failed (the residuals of A and B are perfectly correlated); "
                             "are two assets identical?")


def test_later_events_are_tested_after_an_excluded_one():
    """An event with identical assets (SUR cannot be estimated) and one with too few common
    estimation dates come first; the event after them is still tested."""
    frame = toy_frame(T=60, n_assets=3)
    frame["B"] = frame["A"]
    dates = frame.index
    ab = ["A", "B"]
    events = pd.DataFrame({"event_id": ["bad", "bad", "short", "short", "good", "good"],
                           "date": [dates[P0 + 12]] * 2 + [dates[P0]] * 2 + [dates[P0 + 24]] * 2,
                           "asset": ab + ab + ["A", "C"]})
    # at "short", A misses the first half of the estimation rows and B the second half
    _, res = toy_study(frame, missing={"A": range(4), "B": range(4, 8)}, events=events)
    assert len(res.pairs) == 6
    out = mvrm(res)
    assert set(out.tests["event_id"]) == {"good"}
    assert list(out.fits) == ["good"]
    reasons = dict(zip(out.excluded["event_id"], out.excluded["reason"]))
    assert reasons == {"bad": "SUR estimation failed (the residuals of A and B are perfectly correlated); "
                              "are two assets identical?",
                       "short": "only 0 common estimation dates for 2 assets"}


def test_singular_residuals_names_an_asset_fitted_exactly():
    rng = np.random.default_rng(3)
    x = np.repeat(rng.normal(0, 0.01, (1, 30, 1)), 2, axis=0)
    y = np.column_stack([0.001 + 0.9 * x[0, :, 0], rng.normal(0, 0.01, 30)])
    assert _singular_residuals(y, x, ["A", "B"]) == "zero residual variance for A"
    y[:, 0] += rng.normal(0, 1e-6, 30)
    assert _singular_residuals(y, x, ["A", "B"]) == ""
    y[:, 1] = 2 * y[:, 0] + 0.3 * x[0, :, 0]
    assert _singular_residuals(y, x, ["A", "B"]) == "the residuals of A and B are perfectly correlated"
