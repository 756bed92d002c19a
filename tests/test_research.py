"""Issue 15, research toolkit: cross-sectional regressions of CARs, abnormal volume and
volatility — each checked against statsmodels or a hand computation on the real bundled
data, and against what markets did (volume in April and October 2025)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import impact
from impact.errors import ImpactError
from impact.inference.volatility import pooled

SYMBOLS = ["GSPC", "SPY", "QQQ", "SOXX", "KWEB", "ZS_F", "HG_F"]
SHOCK_DAYS = pd.to_datetime(["2025-04-03", "2025-04-04", "2025-10-10"])


@pytest.fixture(scope="module")
def result():
    catalog = impact.load_catalog().filter(start="2025-01-01", end="2025-12-31")
    return impact.EventStudy(impact.datasets.load_prices(SYMBOLS), catalog, market="GSPC",
                             model={"default": "market", "agriculture_future": "constant_mean",
                                    "metal_future": "constant_mean"}).fit()


def _car_frame(result, window):
    frame = result.car(window).assign(day0=pd.to_datetime(result.day0))
    kinds = result.events_frame.set_index("event_id")["kind"]
    return frame.assign(kind=frame["event_id"].map(kinds))


@pytest.mark.parametrize("cov", ["cluster", "HC1", "HC3", "nonrobust"])
def test_regression_equals_statsmodels_on_the_car_frame(result, cov):
    got = result.regress("car ~ C(kind)", window=(0, 0), cov=cov)
    frame = _car_frame(result, (0, 0)).dropna(subset=["car"])
    model = smf.ols("car ~ C(kind)", frame)
    direct = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["day0"])[0]}, use_t=True) \
        if cov == "cluster" else model.fit(cov_type=cov)
    table = got.table.set_index("term")
    assert np.allclose(table["coef"], direct.params[table.index], atol=1e-10, rtol=0)
    assert np.allclose(table["se"], direct.bse[table.index], atol=1e-10, rtol=0)
    assert np.allclose(table["p_value"], direct.pvalues[table.index], atol=1e-10, rtol=0)
    assert int(table["n"].iloc[0]) == len(frame)
    if cov == "cluster":
        assert table["clusters"].iloc[0] == frame["day0"].nunique() < len(frame)  # assets share dates


def test_weighted_regression_and_characteristics_per_asset(result):
    exposure = pd.DataFrame({"asset": ["SPY", "QQQ", "SOXX", "KWEB", "ZS_F", "HG_F"],
                             "china_share": [0.07, 0.10, 0.25, 1.0, 0.5, 0.5]})  # illustrative, not data
    got = result.regress("car ~ china_share", window=(-1, 1), data=exposure, weights="inverse_variance",
                         cov="HC1")
    frame = result.car((-1, 1)).merge(exposure, on="asset")
    direct = smf.wls("car ~ china_share", frame, weights=1 / frame["se"] ** 2).fit(cov_type="HC1")
    table = got.table.set_index("term")
    assert np.allclose(table["coef"], direct.params, atol=1e-10, rtol=0)
    assert np.allclose(table["se"], direct.bse, atol=1e-10, rtol=0)
    assert "WLS Regression Results" in str(got.summary())
    assert got.table["cov"].iloc[0] == "HC1"


def test_aligned_car_pools_escalations_in_one_direction(result):
    got = result.regress("car_aligned ~ 1", window=(0, 0), cov="cluster")
    frame = result.car((0, 0))
    sign = result.hypotheses["hypothesis"].to_numpy()
    assert got.table["coef"].iloc[0] == pytest.approx(np.mean(frame["car"] * sign), abs=1e-12)


def test_regression_bad_inputs(result):
    for kwargs, message in [
        ({"formula": "car ~ C(nope)"}, "formula 'car ~ C(nope)': "),
        ({"formula": "car"}, "formula 'car' needs a left side and a right side, e.g. 'car ~ C(kind)'"),
        ({"formula": "car ~ 1", "cov": "HC9"}, "unknown cov 'HC9'; choose one of cluster, HC1, HC3, nonrobust"),
        ({"formula": "car ~ 1", "cluster": "week"}, "unknown cluster 'week'; choose one of day0, event_id, asset"),
        ({"formula": "car ~ 1", "data": pd.DataFrame({"x": [1]})},
         "data needs an 'asset' column (per asset), 'event_id' (per event) or both (per pair)"),
        ({"formula": "car ~ 1", "data": pd.DataFrame({"asset": ["SPY", "SPY"], "x": [1, 2]})},
         "data has several rows per asset; keep one per key"),
    ]:
        with pytest.raises(ImpactError) as err:
            result.regress(**kwargs)
        assert str(err.value).startswith(message) and "\n" not in str(err.value)


# -- abnormal volume -------------------------------------------------------------------------

def test_abnormal_volume_by_hand_for_spy_on_liberation_day(result):
    volume = result.abnormal_volume()
    params = volume.params.set_index(["event_id", "asset"]).loc[("USCN-2025-06", "SPY")]
    spy = impact.datasets.load_prices(["SPY"]).set_index("date")["volume"]
    est = np.log1p(spy.loc[params["estimation_start"]:params["estimation_end"]])
    masked = int(params["n_masked"])
    assert len(est) - masked == params["n_obs"]
    if masked == 0:
        assert params["alpha"] == pytest.approx(est.mean(), rel=1e-12)
        assert params["sigma"] == pytest.approx(est.std(ddof=1), rel=1e-12)
    car = volume.car((0, 0)).set_index(["event_id", "asset"]).loc[("USCN-2025-06", "SPY")]
    assert car["car"] == pytest.approx(np.log1p(spy.loc["2025-04-03"]) - params["alpha"], rel=1e-12)
    assert car["se"] == pytest.approx(params["sigma"] * np.sqrt(1 + 1 / params["n_obs"]), rel=1e-12)


def test_abnormal_volume_is_large_and_significant_on_the_shock_days(result):
    volume = result.abnormal_volume()
    car = volume.car((0, 0)).assign(day0=pd.to_datetime(volume.day0))
    shocks = car[car["day0"].isin(SHOCK_DAYS) & car["asset"].isin(["SPY", "QQQ"])]
    assert len(shocks) >= 6
    assert (shocks["car"] > 0.7).all() and (shocks["p_value"] < 0.02).all()  # volume at least 2x normal
    # futures: above normal on those days, but Yahoo's front-month volume is too noisy for a
    # single day to be significant on its own (s.d. of log volume 0.9 for soybeans)
    futures = car[car["day0"].isin(SHOCK_DAYS[1:]) & (car["asset"] == "ZS_F")]
    assert (futures["car"] > 0.5).all()
    # the battery runs on volume: the day-0 Patell test across all pairs of 2025
    assert volume.test("patell", (0, 0))["p_value"].iloc[0] < 0.05


def test_assets_without_volume_are_excluded_with_the_reason(result):
    volume = result.abnormal_volume()
    reasons = volume.excluded.groupby("asset")["reason"].first()
    assert reasons["SOXX"] == "no volume in the data (zero or missing on every day)"
    assert reasons["KWEB"] == "no volume in the data (zero or missing on every day)"
    assert set(volume.pairs["asset"]) == {"SPY", "QQQ", "ZS_F", "HG_F"}
    with pytest.raises(ImpactError, match="^unknown volume model 'turnover'; choose one of mean, market$"):
        result.abnormal_volume("turnover")


def test_market_model_of_volume(result):
    volume = result.abnormal_volume("market")
    params = volume.params.set_index(["event_id", "asset"]).loc[("USCN-2025-22", "QQQ")]
    prices = impact.datasets.load_prices(["QQQ", "GSPC"])
    wide = np.log1p(prices.pivot(index="date", columns="symbol", values="volume"))
    est = wide.loc[params["estimation_start"]:params["estimation_end"]].dropna()
    if int(params["n_masked"]) == 0:
        ols = sm.OLS(est["QQQ"], sm.add_constant(est["GSPC"])).fit()
        assert params["beta"] == pytest.approx(ols.params["GSPC"], rel=1e-9)
        assert params["alpha"] == pytest.approx(ols.params["const"], rel=1e-9)


# -- abnormal volatility ---------------------------------------------------------------------

def test_variance_ratio_by_hand_for_spy_on_october_10(result):
    ratios = result.volatility((0, 0)).set_index(["event_id", "asset"])
    row = ratios.loc[("USCN-2025-22", "SPY")]
    params = result.params.set_index(["event_id", "asset"]).loc[("USCN-2025-22", "SPY")]
    prices = impact.datasets.load_prices(["SPY", "GSPC"]).pivot(index="date", columns="symbol", values="adj_close")
    r = np.log(prices).diff()
    est = r.loc[params["estimation_start"]:params["estimation_end"]].dropna()
    assert int(params["n_masked"]) == 0 or len(est) > params["n_obs"]
    if int(params["n_masked"]) == 0:
        ols = sm.OLS(est["SPY"], sm.add_constant(est["GSPC"])).fit()
        x0 = r.loc["2025-10-10", "GSPC"]
        ar0 = r.loc["2025-10-10", "SPY"] - ols.params["const"] - ols.params["GSPC"] * x0
        var0 = ols.scale * (1 + 1 / ols.nobs + (x0 - est["GSPC"].mean()) ** 2 / ((est["GSPC"] - est["GSPC"].mean()) ** 2).sum())
        assert row["u"] == pytest.approx(ar0 ** 2 / var0, rel=1e-8)
    assert row["n_days"] == 1 and 0 <= row["p_value"] <= 1


def test_volatility_rises_on_the_shock_days(result):
    ratios = result.volatility((0, 0)).assign(day0=pd.to_datetime(result.day0))
    shock = pooled(ratios[ratios["day0"].isin(SHOCK_DAYS)]).iloc[0]
    calm = pooled(ratios[~ratios["day0"].isin(SHOCK_DAYS)]).iloc[0]
    # other 2025 news days include the April 9 pause (+9.5% S&P): calm only by comparison
    assert shock["mean_u"] > calm["mean_u"] > 1 and shock["p_value"] < 0.05
    assert shock["share_above_1"] > calm["share_above_1"]
    assert shock["expected_u"] == pytest.approx(1.0, abs=0.02)
    window = result.volatility((-1, 1))
    assert (window["n_days"] == 3).all()


def test_event_level_characteristics_run_on_event_means(result):
    """kind is the same for every asset of an event: clustering by event makes the events the
    observations (Donald & Lang 2007), by hand: OLS of the event-mean CAR on kind."""
    bundled = result.by_bundle()
    got = bundled.regress("car_aligned ~ C(direction)", window=(0, 0), cov="cluster", cluster="event_id")
    frame = bundled.car((0, 0)).assign(car_aligned=lambda f: f["car"] * bundled.hypotheses["hypothesis"].to_numpy())
    direction = bundled.events_frame.drop_duplicates("event_id").set_index("event_id")["direction"]
    means = frame.groupby("event_id", sort=False)["car_aligned"].mean().to_frame()
    means["direction"] = means.index.map(direction)
    direct = smf.ols("car_aligned ~ C(direction)", means).fit()
    table = got.table.set_index("term")
    assert got.cov == "between" and table["n"].iloc[0] == len(means) == table["clusters"].iloc[0]
    assert np.allclose(table["coef"], direct.params[table.index], atol=1e-12, rtol=0)
    assert np.allclose(table["se"], direct.bse[table.index], atol=1e-12, rtol=0)
    assert table["cov"].iloc[0] == "between event_id means (Donald & Lang 2007)"


def test_too_few_clusters_are_refused_not_reported(result):
    october = impact.EventStudy(impact.datasets.load_prices(SYMBOLS),
                                impact.load_catalog().filter(start="2025-10-09", end="2025-10-30"),
                                market="GSPC", model="constant_mean").fit()
    with pytest.raises(ImpactError) as err:
        october.regress("car ~ C(kind)", window=(0, 0), cov="cluster", cluster="day0")
    assert "day0 clusters for" in str(err.value) and "need many more clusters than coefficients" in str(err.value)
    with pytest.raises(ImpactError, match="too few for 6 coefficients"):
        october.by_bundle().regress("car ~ C(kind)", window=(0, 0), cluster="event_id")


def test_spec_research_fields_are_validated():
    from impact.report.spec import spec_from_dict
    base = {"name": "x", "title": "x", "assets": ["SPY"]}
    spec = spec_from_dict({**base, "cross_section": "car ~ C(kind)", "volume": True, "volatility": {"window": [0, 1]},
                           "bootstrap": {"draws": 99, "seed": 3}})
    assert spec.cross_section == {"formula": "car ~ C(kind)", "window": (0, 0), "cov": "cluster", "cluster": "day0",
                                  "weights": None}
    assert spec.volume == {"model": "mean"} and spec.volatility == {"window": (0, 1)}
    assert spec.to_dict()["volatility"] == {"window": [0, 1]}
    for field, value, message in [
        ("cross_section", {"window": [0, 0]}, "field 'cross_section': expected a formula or a mapping with 'formula'"),
        ("volume", "yes", "field 'volume': expected true or a mapping with model"),
        ("volatility", {"window": [2, 1]}, "field 'volatility'.window: expected [start, end] integers, got [2, 1]"),
        ("bootstrap", {"draws": 0}, "field 'bootstrap'.draws: expected a positive integer"),
    ]:
        with pytest.raises(impact.SpecError) as err:
            spec_from_dict({**base, field: value})
        assert message in str(err.value)


def test_bhar_tests_by_hand(result):
    from impact.inference.bhar import skewness_adjusted_t
    got = result.bhar_tests((0, 5), draws=199, seed=2).iloc[0]
    x = result.bhar((0, 5))["bhar"].dropna().to_numpy()
    n, s = len(x), x.mean() / x.std(ddof=1)
    gamma = ((x - x.mean()) ** 3).sum() / (n * x.std(ddof=1) ** 3)
    assert got["t_sa"] == pytest.approx(np.sqrt(n) * (s + gamma * s * s / 3 + gamma / (6 * n)), rel=1e-12)
    assert got["skewness"] == pytest.approx(gamma, rel=1e-12) and got["n"] == n
    assert got["t_cs"] == pytest.approx(x.mean() / (x.std(ddof=1) / np.sqrt(n)), rel=1e-12)
    # the bootstrap by hand: resamples of n/4 of the centred BHARs
    rng = np.random.default_rng(2)
    boot = np.array([skewness_adjusted_t((x - x.mean())[rng.integers(0, n, n // 4)]) for _ in range(199)])
    assert got["p_sa_boot"] == pytest.approx(2 * min(np.mean(boot <= got["t_sa"]), np.mean(boot >= got["t_sa"])))
    # a symmetric sample has gamma = 0: t_sa is the ordinary t
    sym = np.array([-2.0, -1.0, 0.5, 1.0, 2.5, 1.0, -1.0, -2.0, 1.0, 0.0]) - 0.0
    sym = np.r_[sym, -sym] + 0.3
    assert skewness_adjusted_t(sym) == pytest.approx(np.sqrt(len(sym)) * sym.mean() / sym.std(ddof=1), rel=1e-12)
    with pytest.raises(ImpactError, match="^draws must be a positive whole number, got 0$"):
        result.bhar_tests(draws=0)


def test_bhar_honours_simple_and_log_returns_on_every_constructor():
    """from_returns with returns='simple' compounds simple returns; 'log' sums logs first."""
    dates = pd.bdate_range("2024-01-01", periods=300)
    rng = np.random.default_rng(0)  # SYNTHETIC returns
    frame = pd.DataFrame({"A": rng.normal(0, 0.01, 300), "MKT": rng.normal(0, 0.01, 300)}, index=dates)
    events = pd.DataFrame({"event_id": ["E"], "date": [dates[280]]})
    for kind in ("simple", "log"):
        res = impact.EventStudy.from_returns(frame, events, market=None, model="raw", returns=kind,
                                             estimation_window=(-260, -11), event_window=(-5, 5)).fit()
        window = frame["A"].iloc[280:283]
        expected = np.prod(1 + window) - 1 if kind == "simple" else np.expm1(window.sum())
        assert res.bhar((0, 2))["bhar"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_report_volume_section_without_any_volume_says_so(tmp_path):
    """A spec asking for volume on assets that carry none (ETFs, FX) still writes its report,
    with the section stating why there is nothing to show."""
    import dataclasses

    from impact.report.build import write_report
    from impact.report.spec import load_spec
    spec = dataclasses.replace(load_spec("rare_earths_2025"), assets=["SOXX", "KWEB"], cross_section=None,
                               volatility=None)
    html = (write_report(spec, tmp_path).folder / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="volume"'):]
    assert "Not estimated: no asset of the study has usable volume: SOXX (no volume in the data" in section[:600]


# -- abnormal volatility: GARCH conditional variance and implied-volatility levels ----------

def test_garch_volatility_ratio_against_arch_fitted_directly():
    """SPY on 10 October 2025 (real prices), one event, nothing masked: arch's zero-mean
    GARCH(1,1) on the market-model residuals, its recursion run on by hand through days
    -10..0 with the abnormal returns as shocks; the day-0 ratio AR0^2 / h0."""
    import arch
    prices = impact.datasets.load_prices(["SPY", "GSPC"])
    events = pd.DataFrame({"event_id": ["oct10"], "asset": ["SPY"], "date": ["2025-10-10"]})
    res = impact.EventStudy(prices, events, market="GSPC", contamination="ignore", roll_days=None).fit()
    got = res.volatility((0, 0), method="garch").iloc[0]
    wide = prices.pivot(index="date", columns="symbol", values="adj_close")
    r = np.log(wide).diff()
    p0 = r.index.get_loc(pd.Timestamp("2025-10-10"))
    par = res.params.iloc[0]
    e = (r["SPY"] - par["alpha"] - par["beta"] * r["GSPC"]).to_numpy()
    est = e[p0 - 260: p0 - 10]
    assert np.isfinite(est).all()
    fit = arch.arch_model(100 * est, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    omega, a, b = fit.params["omega"] / 1e4, fit.params["alpha[1]"], fit.params["beta[1]"]
    h = fit.conditional_volatility[-1] ** 2 / 1e4
    for t in range(p0 - 11, p0):  # h of days -10 .. 0, each from the day before
        h = omega + a * e[t] ** 2 + b * h
    assert got["measure"] == "garch_ratio" and got["n_days"] == 1 and np.isinf(got["df"])
    # residuals from the prices here and in the study differ by ~1e-17; with a + b at its bound of 1
    # the optimiser's end point moves by ~1e-5 relative: that is the tolerance
    assert got["u"] == pytest.approx(e[p0] ** 2 / h, rel=1e-4)
    assert a + b == pytest.approx(1.0, abs=1e-6) and got["u"] == pytest.approx(9.99, abs=0.01)
    assert got["p_value"] == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(np.sqrt(got["u"]))), rel=1e-9)
    # a three-day window: the mean of the three ratios, chi2(3) p-value
    w = res.volatility((-1, 1), method="garch").iloc[0]
    hs, hh = [], fit.conditional_volatility[-1] ** 2 / 1e4
    for t in range(p0 - 11, p0 + 1):  # h of days -10 .. +1
        hh = omega + a * e[t] ** 2 + b * hh
        hs.append(hh)
    ratios = e[p0 - 1: p0 + 2] ** 2 / np.array(hs[-3:])
    assert w["u"] == pytest.approx(ratios.mean(), rel=1e-4)
    from scipy import stats
    assert w["p_value"] == pytest.approx(stats.chi2.sf(3 * w["u"], 3), rel=1e-9)


def test_garch_volatility_pooled_and_bad_method(result):
    g = result.volatility((0, 0), method="garch")
    assert (g["measure"] == "garch_ratio").all() and np.isinf(g["df"]).all()
    pool = pooled(g.assign(day0=pd.to_datetime(result.day0))[lambda d: d["day0"].isin(SHOCK_DAYS)]).iloc[0]
    u = g.assign(day0=pd.to_datetime(result.day0))[lambda d: d["day0"].isin(SHOCK_DAYS)]["u"].dropna()
    assert pool["expected_u"] == 1.0 and pool["mean_u"] == pytest.approx(u.mean(), rel=1e-12)
    assert pool["t"] == pytest.approx((u - 1).mean() / ((u - 1).std(ddof=1) / np.sqrt(len(u))), rel=1e-12)
    assert pool["mean_u"] > 3 and pool["p_value"] < 0.05  # the April and October shock days
    with pytest.raises(ImpactError, match="^volatility method must be one of beaver, garch, got 'x'$"):
        result.volatility(method="x")


def test_implied_volatility_levels_report_their_level_change():
    """The VIX is a level: its volatility news is the change of the level (its CAR), not a
    variance ratio of its changes; pooled() leaves it out."""
    catalog = impact.load_catalog().filter(start="2025-10-01", end="2025-10-31")
    res = impact.EventStudy(impact.datasets.load_prices(["VIX", "SPY", "GSPC"]), catalog, market="GSPC",
                            model={"default": "market", "volatility": "constant_mean"}).fit()
    for method in ("beaver", "garch"):
        v = res.volatility((0, 0), method=method)
        vix = v[v["asset"] == "VIX"]
        car = res.car((0, 0)).loc[vix.index]
        assert len(vix) and (vix["measure"] == "level_change").all() and vix["u"].isna().all()
        np.testing.assert_allclose(vix["level_change"], car["car"], rtol=1e-14)
        np.testing.assert_allclose(vix["p_value"], car["p_value"], rtol=1e-12)
        assert pooled(v).iloc[0]["n"] == (v["asset"] != "VIX").sum()
    oct10 = v[(v["asset"] == "VIX") & (pd.to_datetime(res.day0) == pd.Timestamp("2025-10-10"))].iloc[0]
    assert np.expm1(oct10["level_change"]) > 0.25  # the VIX rose 32% that day (abnormal: above its mean)


def test_futures_abnormal_volume_on_the_shock_days_pooled():
    """Real bundled prices. One futures day alone is not significant (Yahoo's front-month
    volume is noisy), but pooled over the three shock sessions (2025-04-03, 04-04, 10-10)
    and the four futures whose volume is usable (soybeans, wheat, corn, gold; HG_F's
    Yahoo volume is not, SOURCES.md), every one of the 12 abnormal log volumes is positive
    and the Stouffer z of their t statistics, sum(t) / sqrt(12), exceeds 3. (The 12 share
    three dates, so the z treats them as independent; the sign count holds date by date.)"""
    futures = ["ZS_F", "ZW_F", "ZC_F", "GC_F"]
    catalog = impact.load_catalog().filter(start="2025-01-01", end="2025-12-31")
    res = impact.EventStudy(impact.datasets.load_prices(["GSPC", *futures]), catalog, market="GSPC",
                            model="constant_mean", assets=futures).fit()
    volume = res.abnormal_volume()
    car = volume.car((0, 0)).assign(day0=pd.to_datetime(volume.day0))
    shock = car[car["day0"].isin(SHOCK_DAYS)].drop_duplicates(["asset", "day0"])
    assert len(shock) == 12 and set(shock["asset"]) == set(futures)
    assert (shock["car"] > 0).all()
    assert shock.groupby("day0")["car"].mean().min() > 0.2          # every date: ~1.2x normal volume or more
    assert shock["t"].sum() / np.sqrt(len(shock)) > 3
    assert shock["car"].mean() > 0.6                                   # about 1.8x the usual volume on average
