"""Placebo re-fits checked against independent fits (issue 11, mutation testing:
benchmarks/MUTATION.md).

* The running-sum fast path (``_placebo_ar_sums``) and the batched refit
  (``_placebo_ar``) against numpy least squares pair by pair on the drawn rows, for
  every supported model and for a study that mixes models, with pseudo windows whose
  regressors are flat or collinear or whose rows are missing (those pseudo pairs drop
  out, NaN).
* ``statistic=<test name>``: each draw equals the test on the study re-run on the
  drawn date, for several models and test options.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, ImpactError
from impact.inference.placebo import _placebo_ar, _placebo_ar_sums, draw_positions, placebo_draws, placebo_test

EST, EV = (-60, -11), (-3, 3)
MIN_OBS = 45
FLAT_ROWS = slice(60, 140)       # F2 (and the market) constant here
COLLINEAR_ROWS = slice(150, 230)  # F2 = 2 F1 here
HOLE = slice(20, 32)              # A1 missing here
T = 400
DAY0 = 330


def panel(n_assets=4, seed=7):
    """SYNTHETIC returns (market MKT, assets A<i>) and SYNTHETIC factors F1, F2."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2019-01-01", periods=T)
    f1, f2 = rng.normal(2e-4, 0.01, T), rng.normal(0, 0.007, T)
    f2[FLAT_ROWS] = 0.001
    f2[COLLINEAR_ROWS] = 2 * f1[COLLINEAR_ROWS]
    m = f1 + 0.3 * rng.normal(0, 0.01, T)
    m[FLAT_ROWS] = 0.0005
    cols = {"MKT": m}
    for i in range(n_assets):
        cols[f"A{i}"] = 1e-4 * i + (0.6 + 0.2 * i) * f1 - 0.3 * f2 + rng.normal(0, 0.009, T)
    frame = pd.DataFrame(cols, index=pd.Index(dates, name="date"))
    frame.iloc[HOLE, frame.columns.get_loc("A1")] = np.nan
    factors = pd.DataFrame({"F1": f1, "F2": f2}, index=dates)
    return frame, factors


MODELS = {
    "market": dict(model="market", market="MKT"),
    "factors": dict(model="factors", market=None),
    "constant_mean": dict(model="constant_mean", market="MKT"),
    "market_adjusted": dict(model="market_adjusted", market="MKT"),
    "raw": dict(model="raw", market="MKT"),
    "mixed_market": dict(model={"default": "market", "A0": "constant_mean", "A3": "raw"}, market="MKT"),
    "mixed_factors": dict(model={"default": "factors", "A2": "constant_mean"}, market=None),
}


def fit_study(frame, factors, spec, date, assets=None, **kw):
    events = pd.DataFrame({"event_id": ["e"], "date": [date]})
    extra = {"factors": factors} if spec["market"] is None else {}
    cols = [c for c in frame.columns if c != "MKT"] if spec["market"] is None else list(frame.columns)
    return EventStudy.from_returns(frame[cols], events, market=spec["market"], model=spec["model"],
                                   estimation_window=EST, event_window=EV, min_estimation_obs=MIN_OBS,
                                   contamination="ignore", roll_days=None, assets=assets, **extra, **kw).fit()


def pair_model(spec, asset):
    m = spec["model"]
    return m.get(asset, m["default"]) if isinstance(m, dict) else m


def hand_ar(frame, factors, spec, asset, date):
    """ARs of one pseudo pair by numpy least squares on its usable estimation rows (NaN if unfit)."""
    model = pair_model(spec, asset)
    p0 = frame.index.get_loc(date)
    est, ev = np.arange(p0 + EST[0], p0 + EST[1] + 1), np.arange(p0 + EV[0], p0 + EV[1] + 1)
    y = frame[asset].to_numpy()
    X = factors.to_numpy() if spec["market"] is None else frame[["MKT"]].to_numpy()
    ok = np.isfinite(y[est]) & np.isfinite(X[est]).all(axis=1)
    ye, xe = y[est][ok], X[est][ok]
    n_par = {"market": 2, "factors": 3, "constant_mean": 1}.get(model, 0)
    if ok.sum() < max(MIN_OBS, n_par + 2):
        return np.full(len(ev), np.nan)
    if model in ("market", "factors"):
        xc = xe - xe.mean(axis=0)
        sd = np.sqrt((xc**2).sum(axis=0))
        if (sd**2 <= 1e-14 * len(ye)).any():
            return np.full(len(ev), np.nan)
        corr = (xc.T @ xc) / np.outer(sd, sd)
        if np.linalg.eigvalsh(corr)[0] < 1e-10:
            return np.full(len(ev), np.nan)
        coef = np.linalg.lstsq(np.column_stack([np.ones(len(ye)), xe]), ye, rcond=None)[0]
        return y[ev] - coef[0] - X[ev] @ coef[1:]
    if model == "constant_mean":
        return y[ev] - ye.mean()
    if model == "market_adjusted":
        return y[ev] - X[ev, 0]
    return y[ev].copy()


@pytest.mark.parametrize("name", list(MODELS))
def test_fast_and_batched_placebo_refits_equal_least_squares_by_hand(name):
    frame, factors = panel()
    spec = MODELS[name]
    result = fit_study(frame, factors, spec, frame.index[DAY0])
    assert len(result.pairs) == 4
    positions = draw_positions(result, 150, seed=4)
    fast, slow = _placebo_ar_sums(result, positions), _placebo_ar(result, positions)
    assert fast is not None and fast.shape == slow.shape == (150, 4, EV[1] - EV[0] + 1)
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-12)
    lo = result.rows.lo
    assets = list(result.pairs["asset"])
    dropped = 0
    for b in range(0, 150, 3):
        for j, asset in enumerate(assets):
            date = pd.Timestamp(result.rows.D[positions[b, j]])
            assert positions[b, j] - lo[j] == frame.index.get_loc(date)
            want = hand_ar(frame, factors, spec, asset, date)
            dropped += np.isnan(want).all()
            np.testing.assert_allclose(fast[b, j], want, rtol=1e-6, atol=1e-12)
    # the flat / collinear / missing stretches make some pseudo pairs unusable; without
    # regressors to fit only A1's missing rows can
    assert 0 < np.isnan(fast[:, :, 0]).sum() < fast[:, :, 0].size
    if name in ("raw", "market_adjusted"):
        assert np.isfinite(fast[:, [0, 2, 3]]).all()
    assert dropped > 0


def test_fast_path_flags_each_kind_of_bad_pseudo_window():
    """Pseudo dates placed by hand: a flat factor, collinear factors, a window with too few
    usable rows; each pseudo pair drops out (NaN) in both paths, the others do not."""
    frame, factors = panel()
    spec = MODELS["factors"]
    result = fit_study(frame, factors, spec, frame.index[DAY0])
    lo = result.rows.lo
    # day-0 rows (per the frame) whose estimation window lies in one stretch
    flat_day0, coll_day0, hole_day0, good_day0 = 60 + 60 + 5, 150 + 60 + 5, 20 + 60, 300
    pos = np.array([[d] * 4 for d in (flat_day0, coll_day0, hole_day0, good_day0)]) + lo[None, :]
    fast, slow = _placebo_ar_sums(result, pos), _placebo_ar(result, pos)
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-12)
    assert np.isnan(fast[0]).all() and np.isnan(fast[1]).all()
    assert np.isnan(fast[2, 1]).all() and np.isfinite(fast[2, [0, 2, 3]]).all()  # only A1 has the hole
    assert np.isfinite(fast[3]).all()
    market = fit_study(frame, factors, MODELS["market"], frame.index[DAY0])
    fast = _placebo_ar_sums(market, pos)
    np.testing.assert_allclose(fast, _placebo_ar(market, pos), rtol=1e-6, atol=1e-12)
    assert np.isnan(fast[0]).all() and np.isfinite(fast[1]).all()  # a flat market; F2 is not a regressor


@pytest.mark.parametrize("name,statistic,options", [
    ("factors", "patell", {}),
    ("raw", "t_cs", {}),
    ("raw", "corrado_rank", {}),
    ("mixed_market", "bmp", {"pe_rows": "benchmark"}),
    ("mixed_market", "brown_warner_1980", {"sigma": "n-1"}),
    ("market", "brown_warner_1980", {"prediction_error": True}),
    ("market", "grank", {"sigma": "n"}),
    ("mixed_factors", "kolari_pynnonen", {}),
    ("constant_mean", "generalized_sign", {}),
])
def test_placebo_test_statistics_equal_reruns_on_the_drawn_dates(name, statistic, options):
    frame, factors = panel()
    spec = MODELS[name]
    result = fit_study(frame, factors, spec, frame.index[DAY0])
    B = 4
    observed, draws, positions = placebo_draws(result, (-1, 1), statistic=statistic, n_draws=B, seed=9, **options)
    assert observed[0] == pytest.approx(result.test(statistic, window=(-1, 1), **options)["statistic"].iloc[0],
                                        rel=1e-12)
    for b in range(B):
        date = pd.Timestamp(result.rows.D[positions[b, 0]])
        rerun = fit_study(frame, factors, spec, date)
        want = rerun.test(statistic, window=(-1, 1), **options)["statistic"].iloc[0]
        assert draws[b, 0] == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_placebo_test_statistic_with_exactly_two_pseudo_pairs():
    frame, factors = panel()
    spec = MODELS["market"]
    result = fit_study(frame, factors, spec, frame.index[DAY0], assets=["A0", "A2"])
    observed, draws, positions = placebo_draws(result, (0, 1), statistic="t_cs", n_draws=6, seed=2)
    assert np.isfinite(draws).sum() >= 4
    for b in range(6):
        rerun = fit_study(frame, factors, spec, pd.Timestamp(result.rows.D[positions[b, 0]]), assets=["A0", "A2"])
        if np.isnan(draws[b, 0]):
            assert len(rerun.pairs) < 2  # a pseudo pair fell in the flat-market stretch
        else:
            assert len(rerun.pairs) == 2
            assert draws[b, 0] == pytest.approx(rerun.test("t_cs", window=(0, 1))["statistic"].iloc[0], rel=1e-10)
    # one pair: no draw has two pseudo pairs, every draw is undefined
    single = fit_study(frame, factors, spec, frame.index[DAY0], assets=["A0"])
    _, draws, _ = placebo_draws(single, (0, 1), statistic="t_cs", n_draws=3, seed=2)
    assert np.isnan(draws).all()


def test_placebo_per_day_draws_and_summary_columns():
    frame, factors = panel()
    result = fit_study(frame, factors, MODELS["factors"], frame.index[DAY0])
    observed, draws, positions = placebo_draws(result, None, n_draws=20, seed=1)
    ar = _placebo_ar(result, positions)
    np.testing.assert_allclose(observed, result.abnormal.mean(axis=0), rtol=1e-12)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):  # draws with no fitted pseudo pair: NaN
        want = np.nanmean(ar, axis=1)
    np.testing.assert_allclose(draws, want, rtol=1e-10, atol=1e-15)
    table = placebo_test(result, None, n_draws=20, seed=1)
    assert list(table.columns) == ["rel_day", "statistic", "p_value", "n", "percentile", "n_draws", "seed"]
    assert list(table["rel_day"]) == list(range(EV[0], EV[1] + 1))
    np.testing.assert_allclose(table["statistic"], observed, rtol=1e-12)
    B = np.isfinite(draws).sum(axis=0)
    le = (draws <= observed).sum(axis=0)
    np.testing.assert_allclose(table["percentile"], le / B, rtol=1e-12)
    assert (table["n"] == 4).all() and (table["n_draws"] == 20).all() and (table["seed"] == 1).all()


def test_placebo_model_error_is_exact():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2019-01-01", periods=T)
    m = rng.normal(0, 0.01, T)
    frame = pd.DataFrame({"MKT": m, "A0": 0.8 * m + rng.normal(0, 0.01, T)}, index=dates)
    events = pd.DataFrame({"event_id": ["e"], "date": [dates[DAY0]]})
    res = EventStudy.from_returns(frame, events, market="MKT", model="garch", estimation_window=(-150, -11),
                                  event_window=EV, contamination="ignore", roll_days=None).fit()
    with pytest.raises(ImpactError, match=re.escape(
            "placebo: model 'garch' is not supported (use an OLS or parameter-free model)")):
        placebo_draws(res, (0, 0), n_draws=2)
