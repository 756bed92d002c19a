"""Normal-return models beyond the market model: ff3, user factors, garch; BHAR; caar groups.

Each model is checked against an independent fit pair by pair (statsmodels OLS, or
arch for GARCH) on the real bundled prices and Fama-French factors.
"""
from __future__ import annotations

import arch  # the test extra installs it: the garch tests run, never skip
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact import EventStudy, ImpactError, datasets
from impact.data.factors import factors_on, ff3_factors
from impact.data.prices import price_series
from impact.data.returns import benchmark_returns
from impact.study.models import solve_slopes

CLEAN = {"contamination": "ignore", "roll_days": None}  # keep windows exactly (-260,-11) for hand checks
EST, EV = (-260, -11), (-5, 5)


@pytest.fixture(scope="module")
def sample():
    return datasets.load_prices(["SPY", "SOXX", "HSI", "ZS_F", "GSPC", "HG_F", "FXI"])


def _log_returns(prices, asset):
    return np.log(price_series(prices[prices["symbol"] == asset])[asset]).diff()


def _compound_by_loop(factors: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Reference: prod(1 + f) - 1 over factor days in (previous session, session], one row at a time."""
    rows = []
    for prev, cur in zip(dates[:-1], dates[1:]):
        block = factors[(factors.index > prev) & (factors.index <= cur)]
        rows.append((1 + block).prod() - 1)
    return pd.DataFrame(rows, index=dates[1:])


def test_factors_compound_over_each_assets_own_intervals():
    ff = ff3_factors()
    hsi_days = pd.DatetimeIndex(["2025-04-01", "2025-04-02", "2025-04-03", "2025-04-07", "2025-04-08"])
    got = factors_on(ff, hsi_days)
    want = _compound_by_loop(ff, hsi_days)
    assert np.isnan(got.iloc[0]).all()  # the first row has no interval
    np.testing.assert_allclose(got.iloc[1:].to_numpy(), want.to_numpy(), atol=1e-15, rtol=0)
    # 2025-04-07 (Monday) spans Thursday->Monday: Friday's and Monday's factor days compound.
    fri, mon = ff.loc["2025-04-04", "mkt_rf"], ff.loc["2025-04-07", "mkt_rf"]
    assert got.loc["2025-04-07", "mkt_rf"] == pytest.approx((1 + fri) * (1 + mon) - 1, abs=1e-15)
    # Past the last factor date: NaN, never a silent zero.
    late = factors_on(ff, pd.DatetimeIndex([ff.index[-1], ff.index[-1] + pd.Timedelta(days=3)]))
    assert late.iloc[1].isna().all()


def test_ff3_factors_are_decimals_of_the_bundled_percent_file():
    raw = datasets.load_factors().set_index("date")
    ff = ff3_factors()
    np.testing.assert_allclose(ff["mkt_rf"].to_numpy(), raw["mkt_rf"].to_numpy() / 100, rtol=0, atol=1e-17)
    assert list(ff.columns) == ["mkt_rf", "smb", "hml", "rf"]


@pytest.mark.parametrize("asset,date", [("SPY", "2018-03-22"), ("SOXX", "2025-04-02"), ("HSI", "2019-05-06"),
                                        ("ZS_F", "2018-04-04")])
def test_ff3_matches_statsmodels_pair_by_pair(sample, asset, date):
    events = pd.DataFrame({"event_id": ["e"], "asset": [asset], "date": [date]})
    res = EventStudy(sample, events, market=None, model="ff3", **CLEAN).fit()
    assert res.excluded.empty
    r = _log_returns(sample, asset)
    p0 = r.index.searchsorted(pd.Timestamp(date))
    f = _compound_by_loop(ff3_factors(), r.index[p0 - 262: p0 + 7]).reindex(r.index)
    est = slice(p0 + EST[0], p0 + EST[1] + 1)
    frame = pd.DataFrame({"y": r - f["rf"], "mkt_rf": f["mkt_rf"], "smb": f["smb"], "hml": f["hml"]}).iloc[est].dropna()
    ols = sm.OLS(frame["y"], sm.add_constant(frame[["mkt_rf", "smb", "hml"]])).fit()
    p = res.params.iloc[0]
    assert p.n_obs == len(frame) and p.df == len(frame) - 4
    assert p.alpha == pytest.approx(ols.params["const"], abs=1e-10)
    for name in ("mkt_rf", "smb", "hml"):
        assert p[f"beta_{name}"] == pytest.approx(ols.params[name], abs=1e-10)
    assert p.beta == p.beta_mkt_rf
    assert p.sigma**2 == pytest.approx(ols.mse_resid, abs=1e-12)
    ev = pd.DataFrame({"y": r - f["rf"], "mkt_rf": f["mkt_rf"], "smb": f["smb"], "hml": f["hml"]}).iloc[p0 - 5: p0 + 6]
    want_ar = ev["y"] - ols.predict(sm.add_constant(ev[["mkt_rf", "smb", "hml"]], has_constant="add"))
    np.testing.assert_allclose(res.ar["ar"].to_numpy(), want_ar.to_numpy(), atol=1e-10, rtol=0)
    # Var(CAR[-1,1]) = 3 s^2 + g' Cov(theta) g with g = sum over the window of (1, f_t) (CLM 1997, 4.4.14).
    g = np.r_[3.0, ev[["mkt_rf", "smb", "hml"]].iloc[4:7].sum().to_numpy()]
    var = 3 * ols.mse_resid + g @ ols.cov_params().to_numpy() @ g
    car = res.car((-1, 1)).iloc[0]
    assert car["car"] == pytest.approx(want_ar.iloc[4:7].sum(), abs=1e-10)
    assert car["se"] == pytest.approx(np.sqrt(var), abs=1e-10)


def test_user_factors_match_statsmodels(sample):
    """Two user factors (S&P 500 and copper simple returns) with an rf column."""
    closes = price_series(sample[sample["symbol"].isin(["GSPC", "HG_F"])])
    facs = pd.DataFrame({"mkt": closes["GSPC"].pct_change(), "copper": closes["HG_F"].pct_change()}).dropna()
    facs["rf"] = 0.0001
    events = pd.DataFrame({"event_id": ["a", "b"], "asset": ["FXI", "SOXX"], "date": ["2019-05-06", "2022-10-07"]})
    res = EventStudy(sample, events, market=None, model="factors", factors=facs.reset_index(), **CLEAN).fit()
    assert res.excluded.empty and len(res.pairs) == 2
    for row in res.params.itertuples():
        r = _log_returns(sample, row.asset)
        p0 = r.index.searchsorted(pd.Timestamp(events.set_index("asset").loc[row.asset, "date"]))
        f = _compound_by_loop(facs, r.index[p0 - 262: p0 + 7]).reindex(r.index)
        frame = pd.DataFrame({"y": r - f["rf"], "mkt": f["mkt"], "copper": f["copper"]}).iloc[p0 - 260: p0 - 10].dropna()
        ols = sm.OLS(frame["y"], sm.add_constant(frame[["mkt", "copper"]])).fit()
        assert row.alpha == pytest.approx(ols.params["const"], abs=1e-10)
        assert row.beta_mkt == pytest.approx(ols.params["mkt"], abs=1e-10)
        assert row.beta_copper == pytest.approx(ols.params["copper"], abs=1e-10)
        assert row.sigma**2 == pytest.approx(ols.mse_resid, abs=1e-12)


def test_factor_errors_are_one_line(sample):
    events = pd.DataFrame({"event_id": ["e"], "asset": ["SPY"], "date": ["2019-05-06"]})
    with pytest.raises(ImpactError, match="needs factors="):
        EventStudy(sample, events, model="factors")
    with pytest.raises(ImpactError, match="factors= is used by model"):
        EventStudy(sample, events, model="market", factors=ff3_factors())
    bad = ff3_factors().reset_index().assign(smb="x")
    with pytest.raises(ImpactError, match="column 'smb' has a non-numeric value"):
        EventStudy(sample, events, model="factors", factors=bad)
    pct = ff3_factors() * 100
    with pytest.raises(ImpactError, match="<= -100%.*percent"):
        EventStudy(sample, events, model="factors", factors=pct)


def test_collinear_and_constant_factors_are_recorded_exclusions():
    """SYNTHETIC returns: one factor a multiple of another; one factor constant."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2020-01-01", periods=400)
    m = rng.normal(0, 0.01, 400)
    rets = pd.DataFrame({"A": 0.5 * m + rng.normal(0, 0.01, 400)}, index=dates)
    events = pd.DataFrame({"event_id": ["e"], "asset": ["A"], "date": [dates[350]]})
    twin = pd.DataFrame({"m": m, "m2": 2 * m}, index=dates)
    res = EventStudy.from_returns(rets, events, market=None, model="factors", factors=twin, **CLEAN).fit()
    assert res.pairs.empty and res.excluded["reason"].iloc[0] == "factors are collinear over the estimation window"
    flat = pd.DataFrame({"m": m, "c": 0.001}, index=dates)
    res = EventStudy.from_returns(rets, events, market=None, model="factors", factors=flat, **CLEAN).fit()
    assert res.excluded["reason"].iloc[0] == "a factor is constant over the estimation window"


def test_bad_input_gives_recorded_exclusions_not_nans():
    """SYNTHETIC returns: an all-NaN estimation window, a constant market, too few rows."""
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2020-01-01", periods=400)
    m = rng.normal(0, 0.01, 400)
    frame = pd.DataFrame({"GOOD": m + rng.normal(0, 0.01, 400), "HOLE": m + rng.normal(0, 0.01, 400),
                          "SHORT": m + rng.normal(0, 0.01, 400), "MKT": m}, index=dates)
    frame.iloc[:345, frame.columns.get_loc("HOLE")] = np.nan   # whole estimation window missing
    frame.iloc[:338, frame.columns.get_loc("SHORT")] = np.nan  # 2 usable rows for 2 parameters
    events = pd.DataFrame({"event_id": ["e"], "date": [dates[350]]})
    res = EventStudy.from_returns(frame, events, market="MKT", min_estimation_obs=1, **CLEAN).fit()
    reasons = res.excluded.set_index("asset")["reason"]
    assert reasons["HOLE"] == "too few estimation observations: 0 < 4"
    assert reasons["SHORT"] == "too few estimation observations: 2 < 4"
    assert list(res.pairs["asset"]) == ["GOOD"]
    assert np.isfinite(res.car()[["car", "se", "t"]].to_numpy()).all()
    flat = frame.assign(MKT=0.0)
    res = EventStudy.from_returns(flat, events, market="MKT", assets=["GOOD"], **CLEAN).fit()
    assert res.excluded["reason"].iloc[0] == "benchmark returns constant over the estimation window"
    assert res.car().empty


def test_garch_matches_arch_fitted_directly(sample):
    events = pd.DataFrame({"event_id": ["e"], "asset": ["ZS_F"], "date": ["2018-04-04"]})
    res = EventStudy(sample, events, market="GSPC", model="garch", **CLEAN).fit()
    assert res.excluded.empty
    r = _log_returns(sample, "ZS_F")
    closes = price_series(sample[sample["symbol"] == "GSPC"])
    m = benchmark_returns(closes["GSPC"], r.index, "log")
    p0 = r.index.searchsorted(pd.Timestamp("2018-04-04"))
    frame = pd.DataFrame({"y": r, "x": m}).iloc[p0 - 260: p0 - 10].dropna()
    fit = arch.arch_model(100 * frame["y"].to_numpy(), x=100 * frame[["x"]].to_numpy(), mean="LS", vol="GARCH",
                          p=1, q=1, dist="normal", rescale=False).fit(disp="off")
    p = res.params.iloc[0]
    assert p.alpha == pytest.approx(fit.params["Const"] / 100, abs=1e-10)
    assert p.beta == pytest.approx(fit.params["x0"], abs=1e-10)
    # Event-day variances: h-step forecasts from the estimation window's end (horizons 6..16).
    h = fit.forecast(horizon=16, reindex=False, x=np.zeros((1, 1, 16))).variance.to_numpy()[-1] / 1e4
    xe = m.iloc[p0 - 1: p0 + 2].to_numpy()
    g = np.array([3.0, xe.sum()])
    # alpha = Const/100, beta = x0: rescale the ML covariance accordingly.
    cov = fit.param_cov.to_numpy()[:2, :2] / np.outer([100, 1], [100, 1])
    assert res.car((-1, 1))["se"].iloc[0] < 0.1  # a 3-day CAR se of tens of percent means mis-scaling
    want_var = h[10 - 1 + 0: 10 - 1 + 3].sum() + g @ cov @ g  # rel_days -1,0,1 are horizons 10,11,12
    car = res.car((-1, 1)).iloc[0]
    ar = r.iloc[p0 - 1: p0 + 2].to_numpy() - fit.params["Const"] / 100 - fit.params["x0"] * xe
    assert car["car"] == pytest.approx(ar.sum(), abs=1e-10)
    assert car["se"] == pytest.approx(np.sqrt(want_var), abs=1e-10)


def test_bhar_by_hand_simple_and_log(sample):
    """Expected values from the closes, not from the result's own ret - ar: the asset leg
    is a price ratio, the normal leg compounds alpha + beta R_m of a statsmodels OLS fit."""
    events = pd.DataFrame({"event_id": ["soy"], "asset": ["ZS_F"], "date": ["2018-04-04"]})
    closes = price_series(sample[sample["symbol"] == "ZS_F"])["ZS_F"]
    gspc = price_series(sample[sample["symbol"] == "GSPC"])["GSPC"]
    gspc = gspc.reindex(gspc.index.union(closes.index)).ffill().reindex(closes.index)  # last close on or before
    p0 = closes.index.get_loc(pd.Timestamp("2018-04-04"))
    bhr = closes.iloc[p0 + 1] / closes.iloc[p0 - 2] - 1  # bought at day -2's close, held over days -1..+1
    for kind in ("simple", "log"):
        res = EventStudy(sample, events, market="GSPC", returns=kind, **CLEAN).fit()
        to_ret = (lambda c: c.pct_change()) if kind == "simple" else (lambda c: np.log(c).diff())
        r, m = to_ret(closes), to_ret(gspc)
        frame = pd.DataFrame({"y": r, "x": m}).iloc[p0 - 260: p0 - 10].dropna()
        fit = sm.OLS(frame["y"], sm.add_constant(frame["x"])).fit()
        e = fit.params["const"] + fit.params["x"] * m.iloc[p0 - 1: p0 + 2].to_numpy()
        normal = np.prod(1 + e) - 1 if kind == "simple" else np.exp(e.sum()) - 1
        got = res.bhar((-1, 1)).iloc[0]
        assert got["bhr"] == pytest.approx(bhr, abs=1e-12)
        assert got["normal_bhr"] == pytest.approx(normal, abs=1e-10)
        assert got["bhar"] == pytest.approx(bhr - normal, abs=1e-10)
        assert got["bhr"] - got["normal_bhr"] == pytest.approx(got["bhar"], abs=1e-15)
    # raw model: BHAR is the buy-and-hold return itself
    raw = EventStudy(sample, events, market=None, model="raw", returns="simple", **CLEAN).fit().bhar((0, 2)).iloc[0]
    closes = price_series(sample[sample["symbol"] == "ZS_F"])["ZS_F"]
    p0 = closes.index.get_loc(pd.Timestamp("2018-04-04"))
    assert raw["bhar"] == pytest.approx(closes.iloc[p0 + 2] / closes.iloc[p0 - 1] - 1, abs=1e-14)


@pytest.mark.parametrize("by", ["actor", "kind", "direction", "asset_class"])
def test_caar_by_group_means_and_t(default_result, catalog, by):
    cars = default_result.car((-1, 1))
    if by == "asset_class":
        from impact.events.assets import registry

        labels = cars["asset"].map(registry()["asset_class"])
    else:
        labels = cars["event_id"].map(catalog.events.drop_duplicates("event_id").set_index("event_id")[by])
    got = default_result.caar((-1, 1), by=by).set_index(by)
    assert set(got.index) == set(labels.dropna())
    for group, x in cars.groupby(labels)["car"]:
        x = x.to_numpy()
        assert got.loc[group, "caar"] == pytest.approx(x.mean(), abs=1e-15)
        assert got.loc[group, "n"] == len(x)
        if len(x) > 1 and x.std(ddof=1) > 0:
            assert got.loc[group, "t"] == pytest.approx(x.mean() / (x.std(ddof=1) / np.sqrt(len(x))), abs=1e-10)


def test_a_missing_factor_day_poisons_only_the_intervals_that_contain_it():
    ff = ff3_factors().loc["2025-03-03":"2025-03-14"].copy()
    ff.loc["2025-03-06", "smb"] = np.nan
    days = pd.DatetimeIndex(["2025-03-03", "2025-03-05", "2025-03-07", "2025-03-10"])
    got = factors_on(ff, days)
    assert np.isnan(got.loc["2025-03-07", "smb"])            # (03-05, 03-07] holds 03-06
    assert got.loc["2025-03-07", "hml"] == pytest.approx((1 + ff.loc["2025-03-06", "hml"]) * (1 + ff.loc["2025-03-07", "hml"]) - 1, abs=1e-15)
    assert got.loc["2025-03-10", "smb"] == pytest.approx(ff.loc["2025-03-10", "smb"], abs=1e-15)


def test_garch_bad_input_is_a_recorded_exclusion():
    rng = np.random.default_rng(8)
    dates = pd.bdate_range("2020-01-01", periods=400)
    frame = pd.DataFrame({"A": rng.normal(0, 0.01, 400), "FLAT": 0.0}, index=dates)
    events = pd.DataFrame({"event_id": ["e"], "date": [dates[350]]})
    res = EventStudy.from_returns(frame, events, market="FLAT", model="garch", assets=["A"], **CLEAN).fit()
    assert res.excluded["reason"].iloc[0] == "benchmark returns constant over the estimation window"
    short = frame.assign(A=lambda d: d["A"].where(d.index >= dates[330]), FLAT=rng.normal(0, 0.01, 400))
    res = EventStudy.from_returns(short, events, market="FLAT", model="garch", assets=["A"], **CLEAN).fit()
    assert res.excluded["reason"].iloc[0].startswith("too few estimation observations: ")


def test_raw_returns_and_dates_are_read_from_the_rows_when_asked(sample):
    """The fit keeps no raw returns or event dates for every pair: they are read from the rows on
    first use. With an rf column the model's y is the excess return, and ``raw`` must still be the
    asset's own log return (real bundled prices); a subset taken before any read reads its own."""
    closes = price_series(sample[sample["symbol"].isin(["GSPC", "HG_F"])])
    facs = pd.DataFrame({"mkt": closes["GSPC"].pct_change(), "copper": closes["HG_F"].pct_change()}).dropna()
    facs["rf"] = 0.0001
    events = pd.DataFrame({"event_id": ["a", "b"], "asset": ["FXI", "SOXX"], "date": ["2019-05-06", "2022-10-07"]})
    res = EventStudy(sample, events, market=None, model="factors", factors=facs.reset_index(), **CLEAN).fit()
    sub = res.take([1])  # before any read
    assert res.__dict__["_raw"] is None and res.__dict__["_dates"] is None and res.__dict__["_estimation_dates"] is None
    for i, row in enumerate(res.pairs.itertuples()):
        r = _log_returns(sample, row.asset)
        p0 = r.index.searchsorted(pd.Timestamp(events.set_index("asset").loc[row.asset, "date"]))
        window = r.iloc[p0 + res.rel_days]
        np.testing.assert_array_equal(res.raw[i], window.to_numpy())
        np.testing.assert_array_equal(pd.to_datetime(res.dates[i]), window.index)
        model_y = res.rows.Y[res.rows.pos[i] + res.rel_days]  # the excess returns the model fitted
        assert np.abs(model_y - res.raw[i]).min() > 5e-5  # so raw is not read from them
    np.testing.assert_array_equal(sub.raw[0], res.raw[1])
    np.testing.assert_array_equal(sub.dates[0], res.dates[1])
    assert res.day0.tolist() == res.dates[:, list(res.rel_days).index(0)].tolist()
    # Estimation windows' first and last sessions, read likewise: sessions -260 and -11 of day 0.
    for i, row in enumerate(res.pairs.itertuples()):
        r = _log_returns(sample, row.asset)
        p0 = r.index.searchsorted(pd.Timestamp(events.set_index("asset").loc[row.asset, "date"]))
        assert (res.estimation_dates[0][i], res.estimation_dates[1][i]) == (r.index[p0 - 260], r.index[p0 - 11])
    params = res.params
    assert params["estimation_start"].tolist() == list(pd.to_datetime(res.estimation_dates[0]))
    assert sub.estimation_dates[0][0] == res.estimation_dates[0][1]  # taken before the read: from its rows
    again = res.take([1])  # taken after the read: the values taken
    assert again.__dict__["_estimation_dates"][1][0] == res.estimation_dates[1][1]


def test_one_regressor_slopes_by_reciprocal_equal_lapacks_inverse_bit_for_bit():
    """SYNTHETIC cross-products over 16 orders of magnitude: the one-regressor shortcut (1 / x'x)
    gives LAPACK's inverse and slopes exactly; flat and short windows get the identity system."""
    rng = np.random.default_rng(4)
    P = 200_000
    xtx = rng.lognormal(size=(P, 1, 1)) * 10.0 ** rng.integers(-8, 8, (P, 1, 1))
    xty = rng.normal(size=(P, 1))
    flat, few = np.zeros(P, dtype=bool), np.zeros(P, dtype=bool)
    flat[:3], few[3:5] = True, True
    problem = np.full(P, "", dtype=object)
    inv, beta, unidentified = solve_slopes("market", xtx, xty, xtx[:, :, 0], flat, few, problem)
    want = np.linalg.inv(np.where((flat | few)[:, None, None], 1.0, xtx))
    np.testing.assert_array_equal(inv, want)
    np.testing.assert_array_equal(beta, np.einsum("pkj,pj->pk", want, xty))
    assert (inv[:5] == 1.0).all() and problem[:3].tolist() == ["benchmark returns constant over the estimation window"] * 3
    np.testing.assert_array_equal(unidentified, flat | few)  # the pairs given a problem here, with the short ones
