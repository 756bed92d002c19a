"""The battery works block by block over the pairs (issue 16): its numbers must not depend on the
block size, must equal those of inputs holding the whole residual matrix, and the fitted result's
inputs must never hold that matrix.

All data in this file is SYNTHETIC (seeded Gaussian market-model returns with holes and
overlapping events), labelled as such.
"""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy
from impact.inference.battery import EXTRA_TESTS, TESTS
from impact.inference.inputs import BatteryInputs, inputs
from impact.inference.nonparametric import NONPARAMETRIC
from impact.inference.parametric import PARAMETRIC

OPTIONS = {"corrado_rank": [{}, {"convention": "estudy2"}, {"convention": "r_eventstudy"}],
           "grank": [{}, {"sigma": "n-1", "pe_rows": "benchmark"}],
           "generalized_sign": [{}, {"p_hat": "pooled"}], "corrado_sign": [{}, {"convention": "estudy2"}],
           "modified_rank": [{}, {"convention": "estudy2"}], "patell": [{}, {"sigma": "n", "pe_rows": "benchmark"}],
           "kolari_pynnonen": [{}, {"sigma": "n-1"}]}


@pytest.fixture(scope="module")
def result():
    """SYNTHETIC: 12 assets, 31 events 4 sessions apart (overlapping windows, contamination="exclude"
    masks rows), 3% of returns missing, one asset on the constant-mean model, ties from rounding."""
    rng = np.random.default_rng(16)
    T = 420
    dates = pd.bdate_range("2020-01-01", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    R = 1e-4 + m[:, None] * rng.uniform(0.5, 1.5, 12) + rng.normal(0, 0.02, (T, 12))
    R[rng.random(R.shape) < 0.03] = np.nan
    R[:, 5] = np.round(R[:, 5], 3)  # SYNTHETIC ties within a pair
    R[:, 3] = np.round(R[:, 3], 3)  # on the constant-mean asset the residuals keep them: event values tie estimation ones
    frame = pd.DataFrame(R, index=dates, columns=[f"S{i}" for i in range(12)])
    frame["MKT"] = m
    # E_early's estimation window starts before the series (gathered row by row, NaN outside)
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(30)] + ["E_early"],
                           "date": list(dates[200 + 4 * np.arange(30)]) + [dates[120]]})
    return EventStudy.from_returns(frame, events, market="MKT", model={"default": "market", "S3": "constant_mean"},
                                   estimation_window=(-150, -11), event_window=(-3, 3),
                                   contamination="exclude").fit()


def _battery(inp):
    tests = {**PARAMETRIC, **NONPARAMETRIC}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in [t for t in TESTS if t != "placebo"] + [t for t in EXTRA_TESTS if t != "lamb"]:
            for opts in OPTIONS.get(name, [{}]):
                for window in (None, (-1, 1), (0, 0)):
                    got = tests[name](inp, window, **opts)
                    out[name, str(opts), window] = np.concatenate(
                        [np.asarray(got[k], dtype=float).ravel() for k in sorted(got)])
    return out


def test_block_size_does_not_change_the_numbers(result):
    assert len(result.pairs) > 150 and (result.pairs["event_id"] == "E_early").sum() > 5
    whole = inputs(replace(result, _cache={}), chunk_size=10**6)
    ref = _battery(whole)
    assert whole.__dict__["_resid"] is None  # the residual matrix was never held
    for size in (1, 7, 64):
        got = _battery(inputs(replace(result, _cache={}), chunk_size=size))
        for key, want in ref.items():
            np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-14, err_msg=str((size, key)))
    # the same inputs as whole arrays (the form placebo draws and hand-made cases use)
    arrays = BatteryInputs(ar=whole.ar, rel_days=whole.rel_days, resid=whole.resid.copy(),
                           x_est=whole.x_est.copy(), n_obs=whole.n_obs, df=whole.df, fit=whole.fit,
                           benchmark=whole.benchmark, chunk_size=5)
    got = _battery(arrays)
    for key, want in ref.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-14, err_msg=str(key))


def test_gathered_residuals_are_the_whole_array_ones(result):
    """Blocks inside the series (strided views) and at its edges (RowSource.gather) give
    y - fit.expected(x), NaN on unusable rows, as one gather of every pair does."""
    inp = inputs(replace(result, _cache={}), chunk_size=3)
    ea, eb = result.study.estimation_window
    g = result.rows.gather(np.arange(ea, eb + 1), dates=False)
    usable = np.isfinite(g["y"]) & np.isfinite(g["x"]).all(axis=2) & ~g["masked"]
    with np.errstate(invalid="ignore"):
        want = np.where(usable, g["y"] - result.fit.expected(g["x"]), np.nan)
    assert (~usable).any() and usable.any()
    inp.summary()  # after the summary pass the clean pairs skip their masks
    got = np.concatenate([r for _, r, _ in inp.blocks()])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-18)


def test_whole_arrays_are_readable_and_replaceable(result):
    """``resid`` / ``x_est`` of a fitted result's inputs are gathered whole on first read (either one
    first), and arrays set on the inputs are the ones the blocks then slice."""
    ea, eb = result.study.estimation_window
    g = result.rows.gather(np.arange(ea, eb + 1), dates=False)
    for first in ("x_est", "resid"):
        inp = inputs(replace(result, _cache={}), chunk_size=4)
        assert inp.__dict__["_resid"] is None and inp.__dict__["_x_est"] is None
        getattr(inp, first)
        np.testing.assert_array_equal(inp.x_est, g["x"])
        assert inp.resid.shape == g["y"].shape and inp.n_rows == eb - ea + 1
        np.testing.assert_array_equal(np.isnan(inp.resid), np.isnan(np.concatenate([r for _, r, _ in inp.blocks()])))
    inp.resid, inp.x_est = inp.resid[:6] * 2, inp.x_est[:6] + 1
    sl, r, x = next(inp.blocks(x=True))
    assert sl == slice(0, 4) and r.shape == (4, eb - ea + 1) and x.shape == (4, eb - ea + 1, 1)
    np.testing.assert_array_equal(r, inp.resid[:4])
    np.testing.assert_array_equal(x, g["x"][:4] + 1)
    assert next(inp.blocks())[2] is None


def test_blocks_with_missing_event_values_and_ties_sum_up(result):
    """Inputs handed in as arrays (as placebo draws are) with event values missing for some pairs and
    event values tied with estimation values: the rank tests' counts add up over blocks of 1, 5 and
    7 pairs to those of one block (SYNTHETIC; each block holds some of the missing and tied cases)."""
    whole = inputs(replace(result, _cache={}), chunk_size=10**6)
    ar = whole.ar.copy()
    ar[::9, 1] = np.nan
    ar[4::13, 3] = np.nan
    resid = whole.resid.copy()
    tied = np.flatnonzero(np.isfinite(resid[:, 20]) & np.isfinite(ar[:, 2]))[::3]
    resid[tied, 20] = ar[tied, 2]  # an estimation value equal to the event value of day 2
    assert len(tied) > 10
    make = lambda size: BatteryInputs(ar=ar, rel_days=whole.rel_days, resid=resid, x_est=whole.x_est,  # noqa: E731
                                      n_obs=whole.n_obs, df=whole.df, fit=whole.fit, benchmark=whole.benchmark,
                                      chunk_size=size)
    tests = {**PARAMETRIC, **NONPARAMETRIC}
    for name, opts in (("corrado_rank", {}), ("corrado_rank", {"convention": "estudy2"}), ("grank", {})):
        for window in (None, (-1, 2)):
            want = tests[name](make(10**6), window, **opts)
            for size in (1, 5, 7):
                got = tests[name](make(size), window, **opts)
                for key in ("statistic", "mean_rank", "rank_sd"):
                    np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-14,
                                               err_msg=str((name, opts, window, size, key)))



def test_factor_model_blocks_equal_one_block():
    """SYNTHETIC two-factor model (k = 2: the block gather's general path): the battery over blocks of
    1 and 7 pairs equals one block."""
    rng = np.random.default_rng(22)
    T = 400
    dates = pd.bdate_range("2020-01-01", periods=T)
    f = pd.DataFrame({"date": dates, "mkt": rng.normal(3e-4, 0.01, T), "oil": rng.normal(0, 0.015, T)})
    R = 1e-4 + np.outer(f["mkt"], rng.uniform(0.5, 1.5, 8)) + np.outer(f["oil"], rng.uniform(-0.5, 0.5, 8)) \
        + rng.normal(0, 0.02, (T, 8))
    R[rng.random(R.shape) < 0.03] = np.nan
    frame = pd.DataFrame(R, index=dates, columns=[f"S{i}" for i in range(8)])
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(12)], "date": dates[200 + 15 * np.arange(12)]})
    res = EventStudy.from_returns(frame, events, model="factors", factors=f, estimation_window=(-150, -11),
                                  event_window=(-3, 3), contamination="ignore").fit()
    assert res.benchmark.shape[2] == 2 and len(res.pairs) > 60
    ref = _battery(inputs(replace(res, _cache={}), chunk_size=10**6))
    for size in (1, 7):
        got = _battery(inputs(replace(res, _cache={}), chunk_size=size))
        for key, want in ref.items():
            np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-14, err_msg=str((size, key)))


def test_prefix_sum_fit_battery_where_estimation_windows_start_before_the_series():
    """SYNTHETIC: with the prefix-sum engine the padding between assets covers only the event
    window, so an estimation window that starts before its series must be gathered with NaN
    there, never from the previous asset's rows: the battery equals the window-by-window fit's."""
    rng = np.random.default_rng(7)
    T = 400
    dates = pd.bdate_range("2021-01-01", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    frame = pd.DataFrame(1e-4 + m[:, None] * rng.uniform(0.5, 1.5, 6) + rng.normal(0, 0.02, (T, 6)),
                         index=dates, columns=[f"S{i}" for i in range(6)])
    frame["MKT"] = m
    events = pd.DataFrame({"event_id": ["early", "late"], "date": [dates[120], dates[300]]})
    out = {}
    for engine in ("windows", "moments"):
        study = EventStudy.from_returns(frame, events, market="MKT", estimation_window=(-200, -11),
                                        event_window=(-3, 3), min_estimation_obs=50, contamination="ignore",
                                        roll_days=None)
        study.engine = engine
        res = study.fit()
        assert (res.fit.n_obs == np.where(res.pairs["event_id"] == "early", 110, 190)).all()
        out[engine] = {name: res.test(name, window=(-1, 1)) for name in ("corrado_rank", "grank", "patell", "bmp")}
    for name, table in out["windows"].items():
        pd.testing.assert_frame_equal(out["moments"][name], table, check_exact=False, atol=1e-10, rtol=1e-9)
