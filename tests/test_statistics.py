"""The test battery checked against hand calculations, statsmodels and scipy, the
known peer bugs as regression tests, bad input, and the placebo test.

All data here is SYNTHETIC (seeded random returns), labelled as such; the real
peer cases are in test_peers.py.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from impact import EventStudy
from impact.errors import ImpactError
from impact.inference.battery import EXTRA_TESTS, TESTS, pair_car_test
from impact.inference.inputs import BatteryInputs, inputs
from impact.inference.parametric import average_correlation, bmp, patell
from impact.inference.placebo import draw_positions, placebo_draws

EST, EV = (-120, -11), (-5, 5)


def synthetic_returns(n_assets=6, T=400, seed=42, shock=0.0, day0=300):
    """SYNTHETIC daily returns: a market factor, a common industry factor (so the
    residuals are cross-correlated) and noise; ``shock`` is added at row ``day0``."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    common = rng.normal(0, 0.004, T)
    cols = {"MKT": m}
    for i in range(n_assets):
        beta = 0.6 + 0.2 * i
        r = 1e-4 * i + beta * m + common + rng.normal(0, 0.008 + 0.002 * i, T)
        r[day0] += shock * (1 + 0.3 * i)
        cols[f"A{i}"] = r
    return pd.DataFrame(cols, index=pd.Index(dates, name="date")), dates


@pytest.fixture(scope="module")
def panel():
    returns, dates = synthetic_returns()
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(6)], "asset": [f"A{i}" for i in range(6)],
                           "date": dates[300]})
    result = EventStudy.from_returns(returns, events, market="MKT", estimation_window=EST, event_window=EV).fit()
    return returns, result


def _hand(returns, result):
    """Per pair with statsmodels: residuals, sigma^2, df, ARs, SARs (se_obs of the prediction)."""
    out = []
    for row in result.pairs.itertuples():
        y, x = returns[row.asset].to_numpy(), returns["MKT"].to_numpy()
        p0 = returns.index.get_loc(pd.Timestamp(row.day0))
        est = slice(p0 + EST[0], p0 + EST[1] + 1)
        ev = slice(p0 + EV[0], p0 + EV[1] + 1)
        fit = sm.OLS(y[est], sm.add_constant(x[est])).fit()
        ar = y[ev] - fit.predict(sm.add_constant(x[ev], has_constant="add"))
        se_obs = fit.get_prediction(sm.add_constant(x[ev], has_constant="add")).se_obs
        out.append(SimpleNamespace(resid=fit.resid, s2=fit.mse_resid, df=fit.df_resid, ar=ar, sar=ar / se_obs,
                                   x_est=x[est], x_ev=x[ev], n=len(fit.resid)))
    return out


def _ttest(values):
    r = stats.ttest_1samp(values, 0.0)
    return r.statistic, r.pvalue


def test_parametric_tests_by_hand(panel):
    returns, result = panel
    hand = _hand(returns, result)
    AR = np.array([h.ar for h in hand])
    SAR = np.array([h.sar for h in hand])
    s2 = np.array([h.s2 for h in hand])
    df = np.array([h.df for h in hand])
    np.testing.assert_allclose(result.abnormal, AR, atol=1e-12)
    N = len(hand)

    got = result.test("t_cs")
    t, p = _ttest(AR)
    np.testing.assert_allclose(got["statistic"], t, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], p, rtol=1e-8)
    assert list(got["rel_day"]) == list(range(-5, 6)) and (got["n"] == N).all()

    got = result.test("brown_warner_1980")
    bw = AR.sum(axis=0) / np.sqrt(s2.sum())
    sat = s2.sum() ** 2 / (s2**2 / df).sum()  # Satterthwaite df of the pooled variance
    np.testing.assert_allclose(got["statistic"], bw, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], 2 * stats.t.sf(np.abs(bw), sat), rtol=1e-8)

    got = result.test("brown_warner_1985")
    a_tau = np.array([h.resid for h in hand]).mean(axis=0)
    np.testing.assert_allclose(got["statistic"], AR.mean(axis=0) / a_tau.std(ddof=1), rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], 2 * stats.t.sf(np.abs(got["statistic"]), len(a_tau) - 1), rtol=1e-8)

    got = result.test("patell")
    z = SAR.sum(axis=0) / np.sqrt((df / (df - 2)).sum())
    np.testing.assert_allclose(got["statistic"], z, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], 2 * stats.norm.sf(np.abs(z)), rtol=1e-8)

    got = result.test("bmp")
    t, p = _ttest(SAR)
    np.testing.assert_allclose(got["statistic"], t, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], p, rtol=1e-8)

    got = result.test("kolari_pynnonen")
    C = np.corrcoef(np.array([h.resid for h in hand]))
    rbar = (C.sum() - N) / (N * (N - 1))
    assert rbar > 0.1  # the synthetic common factor makes residuals correlated
    kp = t * np.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
    np.testing.assert_allclose(got["r_bar"], rbar, rtol=1e-10)
    np.testing.assert_allclose(got["statistic"], kp, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], 2 * stats.t.sf(np.abs(kp), N - 1), rtol=1e-8)


def test_window_versions_by_hand(panel):
    returns, result = panel
    hand = _hand(returns, result)
    w = (-1, 1)
    idx = slice(4, 7)
    CAR = np.array([h.ar[idx].sum() for h in hand])
    D = 3
    # CLM (1997) eq. 4.4.14 by hand
    var = np.array([h.s2 * (D + D**2 / h.n + (h.x_ev[idx].sum() - D * h.x_est.mean()) ** 2
                            / ((h.x_est - h.x_est.mean()) ** 2).sum()) for h in hand])
    np.testing.assert_allclose(result.car(w)["se"] ** 2, var, rtol=1e-10)
    scar = CAR / np.sqrt(var)
    df = np.array([h.df for h in hand])
    got = result.test("patell", window=w).iloc[0]
    assert got["window"] == "[-1,1]"
    assert got["statistic"] == pytest.approx(scar.sum() / np.sqrt((df / (df - 2)).sum()), rel=1e-10)
    assert result.test("bmp", window=w).iloc[0]["statistic"] == pytest.approx(_ttest(scar)[0], rel=1e-10)
    assert result.test("t_cs", window=w).iloc[0]["statistic"] == pytest.approx(_ttest(CAR)[0], rel=1e-10)
    a_tau = np.array([h.resid for h in hand]).mean(axis=0)
    bw85 = result.test("brown_warner_1985", window=w).iloc[0]["statistic"]
    assert bw85 == pytest.approx(CAR.mean() / (np.sqrt(D) * a_tau.std(ddof=1)), rel=1e-10)
    sign = result.test("sign", window=w).iloc[0]
    assert sign["statistic"] == pytest.approx(((CAR > 0).sum() - 3) / np.sqrt(1.5), rel=1e-12)


def test_rank_and_sign_tests_by_hand(panel):
    returns, result = panel
    hand = _hand(returns, result)
    AR = np.array([h.ar for h in hand])
    R = np.array([h.resid for h in hand])
    N, L = R.shape

    # Corrado (1989): ranks over estimation + event days within each pair
    K = np.array([stats.rankdata(np.concatenate([R[i], AR[i]])) for i in range(N)])
    d = (K - (K.shape[1] + 1) / 2).mean(axis=0)
    S = np.sqrt((d**2).mean())
    np.testing.assert_allclose(result.test("corrado_rank")["statistic"], d[L:] / S, rtol=1e-10)
    # estudy2's variant is identical on complete data
    np.testing.assert_allclose(result.test("corrado_rank", convention="estudy2")["statistic"], d[L:] / S, rtol=1e-10)

    # GRANK (Kolari & Pynnonen 2011), day 0
    s = np.sqrt([h.s2 for h in hand])
    sar0 = np.array([h.sar[5] for h in hand])
    gsar = np.column_stack([R / s[:, None], sar0 / sar0.std(ddof=1)])
    U = np.array([stats.rankdata(g) for g in gsar]) / (L + 2) - 0.5
    ubar = U.mean(axis=0)
    T = L + 1
    Z = ubar[-1] / np.sqrt((ubar**2).sum() / T)
    tg = Z * np.sqrt((T - 2) / (T - 1 - Z**2))
    got = result.test("grank").set_index("rel_day").loc[0]
    assert got["statistic"] == pytest.approx(tg, rel=1e-10)
    assert got["p_value"] == pytest.approx(2 * stats.t.sf(abs(tg), T - 2), rel=1e-8)

    # sign and generalized sign (Cowan 1992: p = mean of the pairs' positive shares)
    pos = (AR > 0).sum(axis=0)
    np.testing.assert_allclose(result.test("sign")["statistic"], (pos - N / 2) / np.sqrt(N / 4), rtol=1e-12)
    p_hat = (R > 0).mean(axis=1).mean()
    gs = result.test("generalized_sign")
    np.testing.assert_allclose(gs["p_hat"], p_hat, rtol=1e-12)
    np.testing.assert_allclose(gs["statistic"], (pos - N * p_hat) / np.sqrt(N * p_hat * (1 - p_hat)), rtol=1e-12)

    # Wilcoxon: W+ and scipy's two-sided p-value
    wx = result.test("wilcoxon")
    for k in range(AR.shape[1]):
        assert wx["statistic"][k] == stats.wilcoxon(AR[:, k], alternative="greater").statistic
        assert wx["p_value"][k] == pytest.approx(stats.wilcoxon(AR[:, k]).pvalue, rel=1e-12)


def test_corrado_zivney_and_lamb_by_hand(panel):
    returns, result = panel
    hand = _hand(returns, result)
    AR = np.array([h.ar for h in hand])
    R = np.array([h.resid for h in hand])
    N, L = R.shape
    C = np.concatenate([R, AR], axis=1)
    T = C.shape[1]
    # sign: G = sign(x - median of the pair's estimation + event days)
    G = np.sign(C - np.median(C, axis=1, keepdims=True))
    s_t = G.sum(axis=0) / np.sqrt(N)
    S = np.sqrt((s_t**2).sum() / T)
    np.testing.assert_allclose(result.test("corrado_sign")["statistic"], s_t[L:] / S, rtol=1e-10)
    # modified rank: U = K / (M + 1) - 1/2
    U = np.array([stats.rankdata(c) for c in C]) / (T + 1) - 0.5
    s_t = U.sum(axis=0) / np.sqrt(N)
    S = np.sqrt((s_t**2).sum() / T)
    np.testing.assert_allclose(result.test("modified_rank")["statistic"], s_t[L:] / S, rtol=1e-10)
    # window: ranked with the window's days only
    Cw = np.concatenate([R, AR[:, 4:7]], axis=1)
    Uw = np.array([stats.rankdata(c) for c in Cw]) / (L + 4) - 0.5
    sw = Uw.sum(axis=0) / np.sqrt(N)
    Sw = np.sqrt((sw**2).sum() / (L + 3))
    np.testing.assert_allclose(result.test("modified_rank", window=(-1, 1))["statistic"],
                               sw[L:].sum() / (np.sqrt(3) * Sw), rtol=1e-10)
    # Lamb (1995): BW1985 with the common market's prediction-error factor
    x, xe = hand[0].x_est, hand[0].x_ev
    sd = R.mean(axis=0).std(ddof=1)
    f = 1 + 1 / L + (xe - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum()
    np.testing.assert_allclose(result.test("lamb")["statistic"], AR.mean(axis=0) / (sd * np.sqrt(f)), rtol=1e-10)
    idx = slice(4, 7)
    f3 = 3 + 9 / L + (xe[idx].sum() - 3 * x.mean()) ** 2 / ((x - x.mean()) ** 2).sum()
    assert result.test("lamb", window=(-1, 1))["statistic"].iloc[0] == pytest.approx(
        AR[:, idx].mean(axis=0).sum() / (sd * np.sqrt(f3)), rel=1e-10)


def test_every_named_test_runs_per_day_and_per_window(panel):
    _, result = panel
    for name in TESTS + EXTRA_TESTS:
        opts = {"n_draws": 20} if name == "placebo" else {}
        daily = result.test(name, **opts)
        window = result.test(name, window=(-2, 2), **opts)
        assert {"statistic", "p_value", "n"} <= set(daily.columns), name
        assert len(daily) == 11 and len(window) == 1, name
        assert np.isfinite(window["statistic"]).all() and ((window["p_value"] > 0) & (window["p_value"] <= 1)).all(), name


# ---- known peer bugs, as regression tests on small hand-checkable examples ---------------

def _toy_inputs(ar, sigma2, df):
    """Battery inputs for P pairs with given one-day ARs, sigma^2 and residual df."""
    ar = np.asarray(ar, dtype=float)[:, None]
    fit = SimpleNamespace(sigma2=np.asarray(sigma2, dtype=float))
    P = len(ar)
    return BatteryInputs(ar=ar, rel_days=np.array([0]), resid=np.zeros((P, 3)), x_est=np.zeros((P, 3, 1)),
                         n_obs=np.asarray(df, dtype=float) + 2, df=np.asarray(df, dtype=float), fit=fit,
                         benchmark=np.zeros((P, 1, 1)))


def test_patell_divides_by_sigma_not_its_square_root():
    """sipemu/eventstudy#6 standardised AR by sqrt(sigma) instead of sigma."""
    inp = _toy_inputs([0.02, 0.02, -0.03], [0.01**2, 0.02**2, 0.03**2], [20, 20, 20])
    z = patell(inp, None, prediction_error=False)["statistic"][0]
    # SAR = 2, 1, -1; Var(SAR) = 20/18 each
    assert z == pytest.approx(2 / np.sqrt(3 * 20 / 18), rel=1e-14)
    buggy = (0.02 / np.sqrt(0.01) + 0.02 / np.sqrt(0.02) - 0.03 / np.sqrt(0.03)) / np.sqrt(3 * 20 / 18)
    # by hand: (0.2 + 0.141421 - 0.173205) / 1.825742 = 0.092136, twelve times too small
    assert z == pytest.approx(1.0954451150103321, abs=1e-15)
    assert buggy == pytest.approx(0.0921358486, abs=1e-10)
    assert z - buggy == pytest.approx(1.0033092664, abs=1e-9)


def test_car_variance_includes_the_estimation_error(panel):
    """eventstudy-py: Var(CAR) = k sigma^2, without CLM's estimation-error terms."""
    returns, result = panel
    h = _hand(returns, result)[0]
    k = 11
    naive = k * h.s2
    extra = h.s2 * (k**2 / h.n + (h.x_ev.sum() - k * h.x_est.mean()) ** 2 / ((h.x_est - h.x_est.mean()) ** 2).sum())
    se = result.car(EV)["se"].iloc[0]
    assert se**2 == pytest.approx(naive + extra, rel=1e-12)
    assert se**2 - naive == pytest.approx(extra, rel=1e-9) and extra > 0.09 * naive  # k^2/n = 121/110
    peer = pair_car_test(result, EV, sigma="ols", prediction_error=False).iloc[0]
    assert peer["t"] == pytest.approx(h.ar.sum() / np.sqrt(naive), rel=1e-12)
    ours = pair_car_test(result, EV).iloc[0]
    assert ours["t"] == pytest.approx(result.car(EV)["t"].iloc[0], rel=1e-12)
    assert abs(ours["t"]) < abs(peer["t"])


def test_bmp_counts_each_event_once():
    """sipemu/eventstudy#7: joining on the firm duplicated rows for firms with several
    events, inflating N (and the statistic) by about sqrt(events per firm)."""
    # 2 firms x 3 events, one sigma per firm: SAR values chosen by hand
    ar = np.array([0.01, 0.03, -0.01, 0.02, 0.00, 0.04])
    sig = np.array([0.01] * 3 + [0.02] * 3)
    inp = _toy_inputs(ar, sig**2, [50] * 6)
    got = bmp(inp, None, prediction_error=False)
    sar = ar / sig  # 1, 3, -1, 1, 0, 2
    assert got["n"][0] == 6
    assert got["statistic"][0] == pytest.approx(sar.mean() / sar.std(ddof=1) * np.sqrt(6), rel=1e-14)
    # the buggy many-to-many join repeats every SAR once per event of its firm (3x)
    dup = np.repeat(sar, 3)
    buggy = dup.mean() / dup.std(ddof=1) * np.sqrt(len(dup))
    assert buggy / got["statistic"][0] == pytest.approx(np.sqrt(17 / 5), rel=1e-12)


def test_kolari_pynnonen_average_correlation_leaves_out_the_diagonal():
    """Averaging the whole correlation matrix counts N ones: r_bug = 1/N + (N-1)/N r."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=(3, 40))
    resid = np.vstack([base[0], base[0] + base[1], base[2] - 0.5 * base[0]])
    C = np.corrcoef(resid)
    r = (C[0, 1] + C[0, 2] + C[1, 2]) / 3
    assert average_correlation(resid) == pytest.approx(r, rel=1e-12)
    r_bug = C.mean()
    assert r_bug == pytest.approx(1 / 3 + 2 / 3 * r, rel=1e-12)
    # the adjustment factor of the KP statistic with N = 3
    good = np.sqrt((1 - r) / (1 + 2 * r))
    bad = np.sqrt((1 - r_bug) / (1 + 2 * r_bug))
    assert bad < good


def test_sigma_conventions_scale_as_documented(panel):
    """A residual sd with denominator L-1 (estudy2) or L (eventstudy-py) is smaller than the
    OLS one (L-2), so their Patell statistics are larger by sqrt((L-1)/(L-2)) and sqrt(L/(L-2))."""
    _, result = panel
    L = 110
    ols = result.test("patell")["statistic"].to_numpy()
    n1 = result.test("patell", sigma="n-1")["statistic"].to_numpy()
    n = result.test("patell", sigma="n")["statistic"].to_numpy()
    np.testing.assert_allclose(n1, ols * np.sqrt((L - 1) / (L - 2)), rtol=1e-12)
    np.testing.assert_allclose(n, ols * np.sqrt(L / (L - 2)), rtol=1e-12)
    s2 = inputs(result).sigma2("n")
    np.testing.assert_allclose(s2, result.params["sigma"] ** 2 * (L - 2) / L, rtol=1e-12)


# ---- bad input -----------------------------------------------------------------------------

def test_bad_pairs_are_recorded_exclusions_and_tests_use_the_rest():
    returns, dates = synthetic_returns(n_assets=5)
    returns = returns.copy()
    returns.loc[dates[150:291], "A1"] = np.nan                 # all-NaN estimation window
    returns["FLAT"] = returns["A2"]
    returns["CM"] = 0.001                                      # constant market
    returns.loc[dates[290:311], "A3"] = np.nan                 # all-NaN event window
    returns.loc[dates[150:288], "A4"] = np.nan                 # 2 rows left: fewer than parameters + 1
    events = pd.DataFrame({"event_id": ["ok", "nan_est", "flat", "nan_ev", "short"],
                           "asset": ["A0", "A1", "A2", "A3", "A4"], "date": dates[300]})
    market = {"A0": "MKT", "A1": "MKT", "A2": "CM", "A3": "MKT", "A4": "MKT"}
    result = EventStudy.from_returns(returns, events, market=market, estimation_window=EST, event_window=EV,
                                     assets=["A0", "A1", "A2", "A3", "A4"], min_estimation_obs=1).fit()
    reasons = result.excluded.set_index("event_id")["reason"]
    assert set(reasons.index) == {"nan_est", "flat", "nan_ev", "short"}
    assert reasons["nan_est"].startswith("too few estimation observations: 0 <")
    assert reasons["short"] == "too few estimation observations: 2 < 4"
    assert reasons["flat"] == "benchmark returns constant over the estimation window"
    assert reasons["nan_ev"].startswith("event window incomplete: missing return at rel_day -5")
    assert list(result.pairs["event_id"]) == ["ok"]
    # one pair: a cross-sectional test is undefined -> a clear error, not a NaN result
    with pytest.raises(ImpactError, match="undefined for this sample"):
        result.test("t_cs")
    patell_one = result.test("patell", window=(0, 0)).iloc[0]
    car = result.car((0, 0)).iloc[0]
    dfv = result.params["df"].iloc[0]
    assert patell_one["statistic"] == pytest.approx(car["t"] / np.sqrt(dfv / (dfv - 2)), rel=1e-10)


def test_test_arguments_are_checked(panel):
    _, result = panel
    with pytest.raises(ImpactError, match="unknown test 'pattel'"):
        result.test("pattel")
    with pytest.raises(ImpactError, match="inside the event window"):
        result.test("bmp", window=(-6, 0))
    with pytest.raises(ImpactError, match="'sign'.*unexpected keyword"):
        result.test("sign", sigma="n")
    with pytest.raises(ImpactError, match="sigma must be one of"):
        result.test("patell", sigma="n-2")
    with pytest.raises(ImpactError, match="not to statistic='caar'"):
        result.test("placebo", sigma="n")
    with pytest.raises(ImpactError, match="unknown statistic"):
        result.test("placebo", statistic="pattel", n_draws=2)
    empty = EventStudy.from_returns(synthetic_returns()[0], pd.DataFrame(
        {"event_id": ["late"], "asset": ["A0"], "date": ["2031-01-01"]}), market="MKT",
        estimation_window=EST, event_window=EV).fit()
    with pytest.raises(ImpactError, match="no estimated pairs"):
        empty.test("bmp")


# ---- placebo ---------------------------------------------------------------------------------

def test_placebo_draws_equal_a_rerun_on_the_drawn_dates(panel):
    returns, result = panel
    observed, draws, positions = placebo_draws(result, (-1, 1), n_draws=3, seed=11)
    assert observed[0] == pytest.approx(result.car((-1, 1))["car"].mean(), rel=1e-12)
    rows = result.rows
    # the real event windows stay out of the pseudo estimation windows (as they stay out
    # of every estimation window of the study)
    real = pd.DataFrame([(a, pd.Timestamp(rows.D[p + k]), "event") for a, p in zip(result.pairs["asset"], rows.pos)
                         for k in range(EV[0], EV[1] + 1)], columns=["asset", "date", "reason"])
    for b in range(3):
        dates = [pd.Timestamp(rows.D[p]) for p in positions[b]]
        events = pd.DataFrame({"event_id": [f"p{i}" for i in range(len(dates))],
                               "asset": result.pairs["asset"], "date": dates})
        rerun = EventStudy.from_returns(returns, events, market="MKT", estimation_window=EST, event_window=EV,
                                        estimation_exclusions=real).fit()
        assert draws[b, 0] == pytest.approx(rerun.car((-1, 1))["car"].mean(), rel=1e-10)
        # pseudo event windows stay off the real one (row 300)
        assert (np.abs(positions[b] - result.rows.pos) > 10).all()


def test_placebo_is_seeded_and_detects_a_real_shock():
    returns, dates = synthetic_returns(shock=0.05)
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(6)], "asset": [f"A{i}" for i in range(6)],
                           "date": dates[300]})
    result = EventStudy.from_returns(returns, events, market="MKT", estimation_window=EST, event_window=EV).fit()
    a = result.test("placebo", window=(0, 0), n_draws=199, seed=5)
    b = result.test("placebo", window=(0, 0), n_draws=199, seed=5)
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[0]
    assert row["percentile"] == 1.0 and row["p_value"] == pytest.approx(2 / 200)
    c = result.test("placebo", window=(0, 0), n_draws=199, seed=6)
    assert not np.array_equal(draw_positions(result, 5, seed=5), draw_positions(result, 5, seed=6))
    assert c.iloc[0]["p_value"] == pytest.approx(2 / 200)
    # a quiet day in the same window is not significant
    quiet = result.test("placebo", n_draws=199, seed=5).set_index("rel_day")
    assert quiet.loc[0, "p_value"] == pytest.approx(2 / 200)
    assert quiet.drop(index=0)["p_value"].max() > 0.2
    bmp_placebo = result.test("placebo", window=(0, 0), statistic="bmp", n_draws=30, seed=1).iloc[0]
    assert bmp_placebo["statistic"] == pytest.approx(result.test("bmp", window=(0, 0))["statistic"].iloc[0])


@pytest.mark.parametrize("model", ["market", "constant_mean", "market_adjusted"])
def test_placebo_window_sums_equal_the_batched_refit(model):
    """The fast path (running sums: one O(1) regression per pseudo pair) against the
    batched closed-form fit of impact.study.models on the same drawn dates (SYNTHETIC panel)."""
    from impact.inference.placebo import _placebo_ar, _placebo_ar_sums

    returns, dates = synthetic_returns()
    returns.iloc[40:60, 2] = np.nan  # missing rows inside some pseudo estimation windows
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(6)], "asset": [f"A{i}" for i in range(6)],
                           "date": dates[300]})
    result = EventStudy.from_returns(returns, events, market="MKT", model=model, estimation_window=EST,
                                     event_window=EV).fit()
    positions = draw_positions(result, 50, seed=2)
    slow, fast = _placebo_ar(result, positions), _placebo_ar_sums(result, positions)
    assert np.array_equal(np.isnan(slow), np.isnan(fast))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-13)


def test_battery_does_not_depend_on_the_engine_chunking(panel):
    """The estimation rows kept for the battery stay aligned with the pairs when the
    engine fits in chunks (SYNTHETIC panel, 2 pairs per chunk)."""
    returns, result = panel
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(6)], "asset": [f"A{i}" for i in range(6)],
                           "date": result.pairs["day0"]})
    study = EventStudy.from_returns(returns, events, market="MKT", estimation_window=EST, event_window=EV)
    study.chunk_size = 2
    chunked = study.fit()
    for name in ("patell", "kolari_pynnonen", "corrado_rank", "grank", "generalized_sign"):
        pd.testing.assert_frame_equal(chunked.test(name, window=(-1, 1)), result.test(name, window=(-1, 1)))


def test_rank_tests_with_missing_days_and_ties_by_brute_force():
    """Rank tests computed without re-sorting (cached estimation ranks shifted by the
    event values) equal a full scipy ranking, with missing estimation days and ties
    (SYNTHETIC returns rounded to 0.1 %, so equal values are common)."""
    returns, dates = synthetic_returns()
    returns = returns.round(3)
    returns.iloc[190:230, 2] = np.nan  # A1 misses 40 estimation days
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(6)], "asset": [f"A{i}" for i in range(6)],
                           "date": dates[300]})
    result = EventStudy.from_returns(returns, events, market="MKT", estimation_window=EST, event_window=EV).fit()
    inp = inputs(result)
    R, AR = inp.resid, result.abnormal
    L = R.shape[1]
    for window, cols in ((None, slice(None)), ((-2, 1), slice(3, 7))):
        C = np.concatenate([R, AR[:, cols]], axis=1)
        K = stats.rankdata(C, axis=1, nan_policy="omit")
        ok = np.isfinite(C)
        d = np.where(ok, K - (ok.sum(axis=1, keepdims=True) + 1) / 2, np.nan)
        assert np.sum(K != np.round(K)) > 0  # ties were averaged
        dbar = np.nanmean(d, axis=0)
        S = np.sqrt((dbar**2).sum() / C.shape[1])
        expect = dbar[L:] / S if window is None else dbar[L:].sum() / (np.sqrt(C.shape[1] - L) * S)
        np.testing.assert_allclose(result.test("corrado_rank", window=window)["statistic"], expect, rtol=1e-12)
    # GRANK on the same data: each pair's estimation SARs and its event value ranked together
    s = np.sqrt(inp.sigma2("ols"))
    for window in (None, (-2, 1)):
        e, f, _ = inp.factors(window)
        z = e / np.sqrt(s[:, None] ** 2 * f)
        got = result.test("grank", window=window)["statistic"].to_numpy()
        for j in range(z.shape[1]):
            zs = z[:, j] / z[:, j].std(ddof=1)
            G = np.column_stack([R / s[:, None], zs])
            okg = np.isfinite(G)
            U = stats.rankdata(G, axis=1, nan_policy="omit") / (okg.sum(axis=1, keepdims=True) + 1) - 0.5
            n_t = okg.sum(axis=0)
            ubar = np.nanmean(U, axis=0)
            T = G.shape[1]
            Z = ubar[-1] / np.sqrt(((n_t / len(G)) * ubar**2).sum() / T)
            assert got[j] == pytest.approx(Z * np.sqrt((T - 2) / (T - 1 - Z**2)), rel=1e-12)
