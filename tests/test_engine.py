"""The vectorised engine: chunking, padding between assets, and equality with a
per-pair statsmodels loop on SYNTHETIC returns with holes and masked sessions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import impact.study.engine as engine_module
from impact import EventStudy

CLEAN = {"contamination": "ignore", "roll_days": None}


def _synthetic(n_assets=12, T=700, seed=11):
    """SYNTHETIC market-model returns with random missing values (labelled synthetic)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=T)
    m = rng.normal(2e-4, 0.01, T)
    beta = rng.uniform(-0.5, 1.8, n_assets)
    R = 1e-4 + m[:, None] * beta + rng.normal(0, 0.015, (T, n_assets))
    R[rng.random(R.shape) < 0.03] = np.nan          # scattered missing returns
    frame = pd.DataFrame(R, index=dates, columns=[f"S{i}" for i in range(n_assets)])
    frame["MKT"] = m
    frame.iloc[rng.integers(0, T, 8), -1] = np.nan  # a few missing benchmark returns
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(15)],
                           "date": dates[np.sort(rng.choice(np.arange(5, T - 2), 15, replace=False))]})
    return frame, events


@pytest.fixture(scope="module")
def synthetic():
    return _synthetic()


def test_chunk_size_does_not_change_any_number(synthetic):
    frame, events = synthetic
    whole = EventStudy.from_returns(frame, events, market="MKT", **CLEAN).fit()
    chunked_study = EventStudy.from_returns(frame, events, market="MKT", **CLEAN)
    chunked_study.chunk_size = 7
    chunked = chunked_study.fit()
    pd.testing.assert_frame_equal(whole.params, chunked.params)
    pd.testing.assert_frame_equal(whole.ar, chunked.ar)
    pd.testing.assert_frame_equal(whole.car((-2, 2)), chunked.car((-2, 2)))
    pd.testing.assert_frame_equal(whole.excluded, chunked.excluded)
    assert len(whole.pairs) > 60 and len(whole.excluded) > 0  # both branches exercised


@pytest.mark.parametrize("engine", ["windows", "moments"])
def test_engine_equals_statsmodels_per_pair_with_holes_and_masks(synthetic, engine, monkeypatch):
    monkeypatch.setattr(EventStudy, "engine", engine)
    frame, events = synthetic
    rng = np.random.default_rng(2)
    dates = frame.index
    mask = pd.DataFrame({"asset": [f"S{i}" for i in rng.integers(0, 12, 60)],
                         "date": dates[rng.integers(0, len(dates), 60)], "reason": "synthetic_mask"}).drop_duplicates(["asset", "date"])
    res = EventStudy.from_returns(frame, events, market="MKT", estimation_exclusions=mask,
                                  min_estimation_obs=30, **CLEAN).fit()
    masked = set(zip(mask["asset"], mask["date"]))
    params = res.params.set_index(["event_id", "asset"])
    cars = res.car((-1, 2)).set_index(["event_id", "asset"])
    ev_dates = dict(zip(events["event_id"], events["date"]))
    checked = 0
    for (eid, asset), p in params.iterrows():
        p0 = dates.get_loc(ev_dates[eid])
        lo = max(p0 - 260, 0)
        est = pd.DataFrame({"y": frame[asset].iloc[lo: p0 - 10], "x": frame["MKT"].iloc[lo: p0 - 10]})
        est = est[[(asset, d) not in masked for d in est.index]].dropna()
        ols = sm.OLS(est["y"], sm.add_constant(est["x"])).fit()
        assert p["n_obs"] == len(est)
        assert p["alpha"] == pytest.approx(ols.params["const"], abs=1e-10)
        assert p["beta"] == pytest.approx(ols.params["x"], abs=1e-10)
        assert p["sigma"] ** 2 == pytest.approx(ols.mse_resid, abs=1e-12)
        y_ev, x_ev = frame[asset].iloc[p0 - 1: p0 + 3].to_numpy(), frame["MKT"].iloc[p0 - 1: p0 + 3].to_numpy()
        g = np.array([4.0, x_ev.sum()])
        want_se = np.sqrt(4 * ols.mse_resid + g @ ols.cov_params().to_numpy() @ g)
        assert cars.loc[(eid, asset), "car"] == pytest.approx((y_ev - ols.params["const"] - ols.params["x"] * x_ev).sum(), abs=1e-10)
        assert cars.loc[(eid, asset), "se"] == pytest.approx(want_se, abs=1e-10)
        checked += 1
    assert checked > 60


def test_windows_never_reach_into_a_neighbouring_asset():
    """SYNTHETIC: asset B's series starts late; a pair near its start must not borrow asset A's rows."""
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=300)
    frame = pd.DataFrame({"A": rng.normal(0, 0.01, 300), "B": rng.normal(0, 0.01, 300), "MKT": rng.normal(0, 0.01, 300)},
                         index=dates)
    events = pd.DataFrame({"event_id": ["early", "late"], "asset": ["B", "A"], "date": [dates[3], dates[297]]})
    tidy = pd.concat([
        pd.DataFrame({"date": dates, "symbol": s, "close": 100 * np.exp(frame[s].cumsum())}) for s in ("A", "MKT")
    ] + [pd.DataFrame({"date": dates[100:], "symbol": "B", "close": 100 * np.exp(frame["B"].iloc[100:].cumsum())})])
    events.loc[0, "date"] = dates[102]
    res = EventStudy(tidy, events, market="MKT", **CLEAN).fit()
    reasons = res.excluded.set_index("event_id")["reason"]
    assert reasons["early"] == "event window incomplete: rel_day -5 falls before the series starts"
    assert reasons["late"] == "event window incomplete: rel_day +3 falls after the series ends"
    assert res.pairs.empty



@pytest.mark.parametrize("model", ["market", "constant_mean", "market_adjusted", "raw", "ff3"])
def test_prefix_sum_engine_equals_window_by_window_fits(prices, model):
    """Real bundled prices, several calendars: the prefix-sum engine ("moments") against the
    default engine that gathers every window."""
    from impact import load_catalog

    assets = ["SPY", "SOXX", "HSI", "000001_SS", "ZS_F", "CT1", "DEXCHUS", "MP"]
    study = EventStudy(prices, load_catalog(), market="GSPC" if model != "ff3" else None, model=model, assets=assets)
    study.engine = "moments"
    fast = study.fit()
    study.engine = "windows"
    slow = study.fit()
    assert len(fast.pairs) > 300
    pd.testing.assert_frame_equal(fast.excluded, slow.excluded)
    pd.testing.assert_frame_equal(fast.params, slow.params, check_exact=False, atol=1e-12, rtol=0)
    np.testing.assert_allclose(fast.abnormal, slow.abnormal, atol=1e-13, rtol=0)
    fc, sc = fast.car((-1, 1)), slow.car((-1, 1))
    np.testing.assert_allclose(fc["se"], sc["se"], atol=1e-13, rtol=0)



def test_prefix_sum_blocks_equal_one_block(synthetic, monkeypatch):
    """SYNTHETIC panel with holes and masks: the prefix-sum engine taken a few assets' rows at a
    time (blocks of whole segments; a segment longer than a block is a block alone) gives the
    fit of one block to rounding, and the same pairs and exclusions."""
    frame, events = synthetic
    study = EventStudy.from_returns(frame, events, market="MKT", **CLEAN)
    study.engine = "moments"
    whole = study.fit()
    for rows in (1, 700, 3_000):
        monkeypatch.setattr(engine_module, "BLOCK_ROWS", rows)
        blocked = study.fit()
        pd.testing.assert_frame_equal(blocked.excluded, whole.excluded)
        pd.testing.assert_frame_equal(blocked.params, whole.params, check_exact=False, atol=1e-15, rtol=1e-13)
        np.testing.assert_allclose(blocked.abnormal, whole.abnormal, atol=1e-15, rtol=0)


def test_mixed_models_chunked_equal_one_chunk(synthetic):
    """A chunk may hold pairs of one model only (here S0's constant mean or the market model):
    the chunks' fits still stack, to the same numbers as one chunk (SYNTHETIC panel)."""
    frame, events = synthetic
    model = {"default": "market", "S0": "constant_mean"}
    whole = EventStudy.from_returns(frame, events, market="MKT", model=model, **CLEAN).fit()
    chunked_study = EventStudy.from_returns(frame, events, market="MKT", model=model, **CLEAN)
    chunked_study.chunk_size = 5
    chunked = chunked_study.fit()
    pd.testing.assert_frame_equal(whole.params, chunked.params)
    pd.testing.assert_frame_equal(whole.car((-1, 1)), chunked.car((-1, 1)))
    assert chunked.fit.model == "mixed" and set(chunked.params["model"]) == {"market", "constant_mean"}


def test_day0_placement_reasons_and_flags_per_asset():
    """SYNTHETIC prices on two calendars (B starts 100 sessions late): each pair's day 0 is placed
    on its own asset's rows, with the exact reason or flag when it cannot be, asset by asset."""
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2020-01-01", periods=400)
    closes = {s: 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400))) for s in ("A", "B", "MKT")}
    tidy = pd.concat([pd.DataFrame({"date": dates[100 if s == "B" else 0:], "symbol": s,
                                    "close": closes[s][100 if s == "B" else 0:]}) for s in closes])
    events = pd.DataFrame({"event_id": ["sat", "early", "late"],
                           "date": [pd.Timestamp("2020-12-05"), dates[15], pd.Timestamp("2021-09-01")]})
    res = EventStudy(tidy, events, market="MKT", assets=["A", "B", "MKT"], estimation_window=(-40, -6),
                     event_window=(-2, 2), **CLEAN).fit()
    why = res.alignment.set_index(["event_id", "asset"])["excluded_reason"]
    flags = res.alignment.set_index(["event_id", "asset"])["flags"]
    assert why[("sat", "MKT")] == "asset is its own benchmark (MKT): abnormal returns are identically zero"
    assert flags[("sat", "A")] == flags[("sat", "B")] == "day0_moved:2020-12-05->2020-12-07"
    assert why[("sat", "A")] == why[("sat", "B")] == ""
    assert why[("early", "B")] == f"series starts {dates[100]:%Y-%m-%d}, after day 0 ({dates[15]:%Y-%m-%d})"
    assert why[("early", "A")] == "too few estimation observations: 9 < 14"
    assert why[("late", "A")] == f"no data on or after day 0 (2021-09-01); series ends {dates[-1]:%Y-%m-%d}"
    assert len(res.pairs) == 2


def test_auto_engine_takes_prefix_sums_from_moments_from_pairs(synthetic):
    """SYNTHETIC panel: engine "auto" is the window-by-window fit below ``moments_from`` pairs and
    the prefix-sum fit from there on (bit for bit each); the two agree to rounding."""
    frame, events = synthetic
    fits = {}
    for engine, moments_from in (("windows", None), ("moments", None), ("auto", 10**9), ("auto", 1)):
        study = EventStudy.from_returns(frame, events, market="MKT", engine=engine, **CLEAN)
        if moments_from is not None:
            study.moments_from = moments_from
        fits[(engine, moments_from)] = study.fit().params
    pd.testing.assert_frame_equal(fits[("auto", 10**9)], fits[("windows", None)], check_exact=True)
    pd.testing.assert_frame_equal(fits[("auto", 1)], fits[("moments", None)], check_exact=True)
    assert not fits[("windows", None)].equals(fits[("moments", None)])  # two different computations
    pd.testing.assert_frame_equal(fits[("auto", 1)], fits[("windows", None)], check_exact=False, atol=1e-13, rtol=0)


def test_an_asset_without_rows_is_excluded_with_the_reason():
    """SYNTHETIC: an asset whose series holds no rows at all (a panel built elsewhere) is an
    exclusion naming it, not an error from an empty array."""
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2024-01-01", periods=300)
    frame = pd.DataFrame({"A": rng.normal(0, 0.01, 300), "B": rng.normal(0, 0.01, 300),
                          "MKT": rng.normal(0, 0.01, 300)}, index=dates)
    study = EventStudy.from_returns(frame, pd.DataFrame({"event_id": ["e"], "date": [dates[280]]}), market="MKT",
                                    estimation_window=(-100, -6), event_window=(-2, 2), **CLEAN)
    study.panel.returns["B"] = study.panel.returns["B"].iloc[:0]
    res = study.fit()
    assert res.excluded.set_index("asset").loc["B", "reason"] == "no returns for B in the data"
    assert res.pairs["asset"].tolist() == ["A"]


@pytest.mark.parametrize("separate_raw", [False, True])
def test_stacked_rows_equal_writing_each_asset_after_nan_filling(separate_raw):
    """SYNTHETIC parts: runs of assets sharing regressors and dates (written as grids) broken by
    other lengths, their own regressor arrays, other dates and uneven padding; every cell must be
    what filling with NaN/NaT and then writing each asset's rows gives."""
    rng = np.random.default_rng(8)
    k = 2
    shared_x, shared_d = rng.normal(size=(30, k)), np.arange(30).astype("datetime64[D]").astype("datetime64[ns]")
    parts, starts, at = [], [], 3
    for i in range(40):
        n = 30 if i % 9 not in (4, 5) else 12 + i % 3
        own = i % 9 == 7  # a copy of the regressors: not the shared object
        x = shared_x[:n].copy() if own or n != 30 else shared_x
        d = shared_d[:n] if n != 30 else shared_d
        y = rng.normal(size=n)
        parts.append((y, x, y + 1.0 if separate_raw else y, d))
        starts.append(at)
        at += n + (4 if i != 20 else 9)  # uneven padding after one asset
    n_rows = at + 2
    Y, X, R, D = engine_module.stack_rows(parts, starts, n_rows, k, separate_raw)
    want_y, want_x = np.full(n_rows, np.nan), np.full((n_rows, k), np.nan)
    want_r, want_d = np.full(n_rows, np.nan), np.full(n_rows, np.datetime64("NaT"), dtype="datetime64[ns]")
    for (y, x, r, d), s in zip(parts, starts):
        want_y[s:s + len(y)], want_x[s:s + len(y)], want_r[s:s + len(y)], want_d[s:s + len(y)] = y, x, r, d
    np.testing.assert_array_equal(Y, want_y)
    np.testing.assert_array_equal(X, want_x)
    np.testing.assert_array_equal(D, want_d)
    np.testing.assert_array_equal(R, want_r if separate_raw else want_y)
    assert (R is Y) is (not separate_raw)
    runs = engine_module._grid_runs(parts, starts, n_rows)
    assert len(runs) < len(parts) and max(b - a for a, b in runs) >= 3  # grids were used
