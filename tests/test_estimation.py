"""Market-model estimation checked against statsmodels OLS and a hand calculation."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from impact import EventStudy
from impact.data.prices import price_series
from impact.data.returns import benchmark_returns


def _pair_data(prices, asset, market="GSPC"):
    closes = price_series(prices[prices["symbol"].isin([asset, market])])
    r = np.log(closes[asset]).diff()
    m = benchmark_returns(closes[market], r.index, "log")
    return r, m


def _windows(r, day0, est=(-260, -11), ev=(-5, 5)):
    p0 = r.index.searchsorted(day0)
    return r.iloc[p0 + est[0]: p0 + est[1] + 1], p0 + ev[0], p0 + ev[1] + 1


def test_market_model_matches_statsmodels_pair_by_pair(default_result, prices):
    params = default_result.params
    ar = default_result.ar
    assert len(params) > 700  # many pairs, across calendars
    checked = 0
    for row in params.sample(120, random_state=7).itertuples():
        day0 = default_result.alignment.set_index(["event_id", "asset"]).loc[(row.event_id, row.asset), "day0"]
        r, m = _pair_data(prices, row.asset)
        p0 = r.index.searchsorted(day0)
        est = slice(p0 - 260, p0 - 10)
        frame = pd.DataFrame({"y": r.iloc[est], "x": m.iloc[est]}).dropna()
        # Default contamination="exclude": other events' [-5,+5] windows on this asset leave estimation.
        align = default_result.alignment
        others = align[(align["asset"] == row.asset) & (align["event_id"] != row.event_id)]["day0"].dropna()
        near = {r.index[j] for q in r.index.searchsorted(others) for j in range(max(q - 5, 0), min(q + 6, len(r)))}
        frame = frame.drop(index=[d for d in frame.index if d in near])
        # Default roll_days="auto": futures roll days leave estimation too (impact.data.rolls).
        ex = default_result.study.estimation_exclusions
        if ex is not None:
            frame = frame.drop(index=[d for d in ex.loc[ex["asset"] == row.asset, "date"] if d in frame.index])
        fit = sm.OLS(frame["y"], sm.add_constant(frame["x"])).fit()
        assert row.n_obs == len(frame)
        assert row.alpha == pytest.approx(fit.params["const"], abs=1e-10)
        assert row.beta == pytest.approx(fit.params["x"], abs=1e-10)
        assert row.sigma**2 == pytest.approx(fit.mse_resid, abs=1e-10)
        ev = slice(p0 - 5, p0 + 6)
        expected_ar = r.iloc[ev] - fit.params["const"] - fit.params["x"] * m.iloc[ev]
        got = ar[(ar["event_id"] == row.event_id) & (ar["asset"] == row.asset)].sort_values("rel_day")
        np.testing.assert_allclose(got["ar"].to_numpy(), expected_ar.to_numpy(), atol=1e-10, rtol=0)
        assert list(got["date"]) == list(r.index[ev])
        checked += 1
    assert checked == 120


def test_car_and_standard_error_by_hand(prices):
    """CAR[-1,+1] of soybeans around China's 2018-04-04 retaliation, written out by hand."""
    events = pd.DataFrame({"event_id": ["soy"], "asset": ["ZS_F"], "date": ["2018-04-04"]})
    result = EventStudy(prices, events, market="GSPC", model="market", roll_days=None).fit()
    car = result.car((-1, 1)).iloc[0]

    r, m = _pair_data(prices, "ZS_F")
    p0 = r.index.get_loc(pd.Timestamp("2018-04-04"))
    y = r.iloc[p0 - 260: p0 - 10].to_numpy()
    x = m.iloc[p0 - 260: p0 - 10].to_numpy()
    ok = np.isfinite(y) & np.isfinite(x)
    y, x = y[ok], x[ok]
    L1 = len(y)
    beta = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    alpha = y.mean() - beta * x.mean()
    sigma2 = ((y - alpha - beta * x) ** 2).sum() / (L1 - 2)
    xe = m.iloc[p0 - 1: p0 + 2].to_numpy()
    ye = r.iloc[p0 - 1: p0 + 2].to_numpy()
    hand_car = (ye - alpha - beta * xe).sum()
    # CLM (1997) eq. 4.4.14: Var = sigma^2 [L2 + L2^2/L1 + (sum(x_t) - L2*xbar)^2 / Sxx]
    L2 = 3
    hand_var = sigma2 * (L2 + L2**2 / L1 + (xe.sum() - L2 * x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
    assert car["car"] == pytest.approx(hand_car, abs=1e-12)
    assert car["se"] == pytest.approx(np.sqrt(hand_var), abs=1e-12)
    assert car["t"] == pytest.approx(hand_car / np.sqrt(hand_var), abs=1e-9)
    assert car["p_value"] == pytest.approx(2 * stats.t.sf(abs(hand_car / np.sqrt(hand_var)), L1 - 2), abs=1e-12)
    day0 = result.ar.query("rel_day == 0").iloc[0]
    assert day0["ar"] == pytest.approx(ye[1] - alpha - beta * xe[1], abs=1e-12)
    assert day0["ar"] < -0.02  # the retaliation list hit soybeans


def test_constant_mean_and_market_adjusted_by_hand(prices):
    events = pd.DataFrame({"event_id": ["e"], "asset": ["SOXX"], "date": ["2025-10-10"]})
    r, m = _pair_data(prices, "SOXX")
    p0 = r.index.get_loc(pd.Timestamp("2025-10-10"))
    y = r.iloc[p0 - 260: p0 - 10].to_numpy()
    x = m.iloc[p0 - 260: p0 - 10].to_numpy()

    cm = EventStudy(prices, events, market=None, model="constant_mean").fit()
    assert cm.params["alpha"].iloc[0] == pytest.approx(y.mean(), abs=1e-14)
    assert cm.params["sigma"].iloc[0] ** 2 == pytest.approx(y.var(ddof=1), abs=1e-14)
    car = cm.car((0, 0)).iloc[0]
    assert car["car"] == pytest.approx(r.iloc[p0] - y.mean(), abs=1e-14)
    assert car["se"] ** 2 == pytest.approx(y.var(ddof=1) * (1 + 1 / len(y)), abs=1e-14)

    ma = EventStudy(prices, events, market="GSPC", model="market_adjusted").fit()
    d = y - x
    assert ma.params["sigma"].iloc[0] ** 2 == pytest.approx(d.var(ddof=1), abs=1e-14)
    car = ma.car((-1, 1)).iloc[0]
    assert car["car"] == pytest.approx((r.iloc[p0 - 1: p0 + 2] - m.iloc[p0 - 1: p0 + 2]).sum(), abs=1e-14)
    assert car["se"] ** 2 == pytest.approx(3 * d.var(ddof=1), abs=1e-14)


def test_cross_sectional_caar_t_test(default_result):
    cars = default_result.car((-1, 1))
    caar = default_result.caar((-1, 1)).iloc[0]
    x = cars["car"].to_numpy()
    t = x.mean() / (x.std(ddof=1) / np.sqrt(len(x)))
    assert caar["caar"] == pytest.approx(x.mean(), abs=1e-15)
    assert caar["t"] == pytest.approx(t, abs=1e-10)
    assert caar["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), len(x) - 1), abs=1e-12)
    aar = default_result.aar()
    ar = default_result.ar
    day0 = ar[ar["rel_day"] == 0]["ar"]
    assert aar.set_index("rel_day").loc[0, "aar"] == pytest.approx(day0.mean(), abs=1e-15)
    assert aar["caar"].iloc[-1] == pytest.approx(ar.groupby("rel_day")["ar"].mean().sum(), abs=1e-12)


def test_estimation_exclusions_drop_rows_and_flag_event_days(prices):
    events = pd.DataFrame({"event_id": ["e"], "asset": ["ZW_F"], "date": ["2025-05-12"]})
    base = EventStudy(prices, events, market="GSPC", roll_days=None).fit()
    r, m = _pair_data(prices, "ZW_F")
    p0 = r.index.get_loc(pd.Timestamp("2025-05-12"))
    drop = [r.index[p0 - 100], r.index[p0 - 50]]
    ex = pd.DataFrame({"asset": ["ZW_F", "ZW_F", "ZW_F"], "date": [*drop, pd.Timestamp("2025-05-15")],
                       "reason": ["roll", "roll", "roll"]})
    masked = EventStudy(prices, events, market="GSPC", estimation_exclusions=ex, roll_days=None).fit()
    est = pd.DataFrame({"y": r.iloc[p0 - 260: p0 - 10], "x": m.iloc[p0 - 260: p0 - 10]}).drop(index=drop).dropna()
    fit = sm.OLS(est["y"], sm.add_constant(est["x"])).fit()
    row = masked.params.iloc[0]
    assert row.n_obs == base.params["n_obs"].iloc[0] - 2 == len(est)
    assert row.n_masked == 2
    assert row.beta == pytest.approx(fit.params["x"], abs=1e-10)
    assert masked.alignment["flags"].iloc[0] == "roll@+3"  # 2025-05-15 is day +3


def test_car_is_computed_once_per_window_and_the_callers_frame_is_its_own(default_result):
    """The CARs of a window are kept (caar and the battery ask again); a caller who edits the frame
    it got does not change what the next caller gets (real bundled prices)."""
    res = replace(default_result, _cache={})
    first = res.car((-1, 1))
    first["car"] = 99.0
    first["extra"] = 1
    again = res.car((-1, 1))
    assert "extra" not in again.columns and (again["car"] != 99.0).all()
    mask = (res.rel_days >= -1) & (res.rel_days <= 1)
    np.testing.assert_array_equal(again["car"].to_numpy(), res.abnormal[:, mask].sum(axis=1))
    assert res.car((-2, 2))["window"].iloc[0] == "[-2,2]"  # another window, another entry
    assert res.caar((-1, 1))["caar"].iloc[0] == pytest.approx(again["car"].mean(), rel=1e-12)
