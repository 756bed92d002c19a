"""Binder (1985) multivariate regression model: SUR effects and Wald tests checked
against closed forms (identical regressors) and a hand-written GLS (different
benchmarks per asset)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact import EventStudy, ImpactError, datasets
from impact.inference.mvrm import mvrm

CLEAN = {"contamination": "ignore", "roll_days": None}


def _synthetic(n_assets=4, seed=4, T=600, common_shock=0.004):
    """SYNTHETIC returns with cross-correlated residuals (a common non-market factor)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2016-01-01", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    m2 = rng.normal(0, 0.008, T)
    common = rng.normal(0, common_shock, T)
    beta = rng.uniform(0.4, 1.4, n_assets)
    R = m[:, None] * beta + common[:, None] + rng.normal(0, 0.012, (T, n_assets))
    frame = pd.DataFrame(R, index=dates, columns=[f"A{i}" for i in range(n_assets)])
    frame["MKT"], frame["MKT2"] = m, m2 + 0.5 * m
    events = pd.DataFrame({"event_id": ["E1", "E2"], "date": [dates[400], dates[520]]})
    return frame, events


def _design(frame, asset, bench, p0, est=(-260, -11), ev=(-5, 5)):
    rows = np.r_[np.arange(p0 + est[0], p0 + est[1] + 1), np.arange(p0 + ev[0], p0 + ev[1] + 1)]
    W = ev[1] - ev[0] + 1
    T_est = est[1] - est[0] + 1
    dummies = np.vstack([np.zeros((T_est, W)), np.eye(W)])
    X = np.column_stack([np.ones(len(rows)), frame[bench].to_numpy()[rows], dummies])
    return frame[asset].to_numpy()[rows], X


def test_common_regressors_effects_equal_study_cars_and_wald_closed_form():
    frame, events = _synthetic()
    res = EventStudy.from_returns(frame.drop(columns="MKT2"), events, market="MKT", **CLEAN).fit()
    out = mvrm(res, (-1, 1))
    assets = [f"A{i}" for i in range(4)]
    # Effects: with one calendar and one market, the SUR dummies are the study's ARs.
    cars = res.car((-1, 1)).set_index(["event_id", "asset"])
    eff = out.effects.set_index(["event_id", "asset"])
    np.testing.assert_allclose(eff["effect"], cars.loc[eff.index, "car"], atol=1e-10, rtol=0)
    np.testing.assert_allclose(eff["se"], cars.loc[eff.index, "se"], atol=1e-10, rtol=0)
    # Wald by hand: Cov(b) = Sigma (x) (X'X)^-1 with Sigma = E'E / (T - K).
    p0 = frame.index.get_loc(events["date"].iloc[0])
    Y, Xs = zip(*[_design(frame, a, "MKT", p0) for a in assets])
    X = Xs[0]
    Y = np.column_stack(Y)
    B = np.linalg.lstsq(X, Y, rcond=None)[0]
    E = Y - X @ B
    T, K = X.shape
    sigma = E.T @ E / (T - K)
    c = np.zeros(K)
    c[2 + 4: 2 + 7] = 1.0  # dummies of rel_days -1, 0, +1
    g = c @ B
    Vg = sigma * (c @ np.linalg.inv(X.T @ X) @ c)
    w_zero = g @ np.linalg.solve(Vg, g)
    Rm = np.column_stack([np.eye(3), -np.ones(3)])
    w_equal = (Rm @ g) @ np.linalg.solve(Rm @ Vg @ Rm.T, Rm @ g)
    tests = out.tests.set_index(["event_id", "hypothesis"])
    assert tests.loc[("E1", "zero"), "statistic"] == pytest.approx(w_zero, rel=1e-9)
    assert tests.loc[("E1", "equal"), "statistic"] == pytest.approx(w_equal, rel=1e-9)
    assert tests.loc[("E1", "zero"), "df"] == 4 and tests.loc[("E1", "equal"), "df"] == 3
    assert tests.loc[("E1", "zero"), "p_value"] == pytest.approx(stats.chi2.sf(w_zero, 4), rel=1e-9)
    assert tests.loc[("E1", "zero"), "f_df_denom"] == 4 * (T - K)
    assert tests.loc[("E1", "zero"), "n_obs"] == T
    # The public method returns the same table.
    pd.testing.assert_frame_equal(res.mvrm((-1, 1)), out.tests)


def test_daily_effects_count_restrictions_per_day():
    frame, events = _synthetic()
    res = EventStudy.from_returns(frame.drop(columns="MKT2"), events, market="MKT", **CLEAN).fit()
    t = mvrm(res, (0, 1), effect="daily").tests.set_index(["event_id", "hypothesis"])
    assert t.loc[("E2", "zero"), "df"] == 4 * 2 and t.loc[("E2", "equal"), "df"] == 3 * 2


def test_different_benchmarks_match_hand_written_gls():
    """Per-asset benchmarks make the regressors differ, so SUR-GLS differs from OLS."""
    frame, events = _synthetic(n_assets=3, seed=9)
    bench = {"A0": "MKT", "A1": "MKT2", "A2": "MKT"}
    res = EventStudy.from_returns(frame, events.iloc[:1], market=bench, **CLEAN).fit()
    out = mvrm(res, (-1, 1))
    p0 = frame.index.get_loc(events["date"].iloc[0])
    parts = [_design(frame, a, bench[a], p0) for a in ("A0", "A1", "A2")]
    T, K = parts[0][1].shape
    # Step 1: OLS residuals -> Sigma (debiased, T - K); step 2: GLS on the stacked system.
    E = np.column_stack([y - X @ np.linalg.lstsq(X, y, rcond=None)[0] for y, X in parts])
    sigma = E.T @ E / (T - K)
    Xb = np.zeros((3 * T, 3 * K))
    for i, (_, X) in enumerate(parts):
        Xb[i * T:(i + 1) * T, i * K:(i + 1) * K] = X
    y = np.concatenate([p[0] for p in parts])
    omega_inv = np.kron(np.linalg.inv(sigma), np.eye(T))
    cov = np.linalg.inv(Xb.T @ omega_inv @ Xb)
    b = cov @ Xb.T @ omega_inv @ y
    R = np.zeros((3, 3 * K))
    for i in range(3):
        R[i, i * K + 2 + 4: i * K + 2 + 7] = 1.0
    g = R @ b
    w_zero = g @ np.linalg.solve(R @ cov @ R.T, g)
    eff = out.effects.set_index("asset")
    np.testing.assert_allclose(eff.loc[["A0", "A1", "A2"], "effect"], g, atol=1e-10, rtol=0)
    np.testing.assert_allclose(eff.loc[["A0", "A1", "A2"], "se"], np.sqrt(np.diag(R @ cov @ R.T)), atol=1e-10, rtol=0)
    assert out.tests.set_index("hypothesis").loc["zero", "statistic"] == pytest.approx(w_zero, rel=1e-8)
    # ...and GLS is not OLS here: the second asset's effect differs from its study CAR.
    car = res.car((-1, 1)).set_index("asset")["car"]
    assert abs(eff.loc["A1", "effect"] - car["A1"]) > 1e-6


def test_single_asset_zero_test_is_the_squared_car_t():
    frame, events = _synthetic(n_assets=1)
    res = EventStudy.from_returns(frame.drop(columns="MKT2"), events, market="MKT", **CLEAN).fit()
    t = mvrm(res, (-2, 2)).tests
    assert list(t["hypothesis"]) == ["zero", "zero"]  # no 'equal' test with one asset
    cars = res.car((-2, 2))
    np.testing.assert_allclose(t["statistic"].to_numpy(), (cars["t"] ** 2).to_numpy(), rtol=1e-9)


def test_real_event_us_assets_and_errors():
    prices = datasets.load_prices(["GSPC", "SOXX", "SMH", "KWEB", "FXI", "MCHI"])
    events = pd.DataFrame({"event_id": ["liberation_day"], "date": ["2025-04-03"]})
    res = EventStudy(prices, events, market="GSPC", **CLEAN).fit()
    t = res.mvrm((0, 0)).set_index("hypothesis")
    assert t.loc["zero", "n_assets"] == 5 and t.loc["zero", "df"] == 5 and t.loc["equal", "df"] == 4
    assert np.isfinite(t[["statistic", "p_value", "f_stat"]].to_numpy()).all()
    with pytest.raises(ImpactError, match="mvrm needs a regression normal-return model"):
        EventStudy(prices, events, market="GSPC", model="market_adjusted", **CLEAN).fit().mvrm()
    with pytest.raises(ImpactError, match="no estimated pairs"):
        mvrm(res, (0, 0), events=["nope"])
    with pytest.raises(ImpactError, match="outside the event window"):
        res.mvrm((-9, 0))
