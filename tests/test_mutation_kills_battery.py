"""The test battery at its sample-size edges, by hand (issue 11, mutation testing:
benchmarks/MUTATION.md): studies of exactly 1, 2 and 3 pairs and an empty selection
of pairs, checked against scipy / statsmodels / plain numpy; the sigma conventions
and the estudy2 prediction-error factor on hand-made inputs; the battery table; the
one-line errors of ``run_test`` and ``check_window`` matched in full.

All data in this file is SYNTHETIC (seeded random numbers or hand-picked values),
labelled as such.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from impact import EventStudy, ImpactError
from impact.inference.battery import TESTS, battery_table, pair_car_test, run_test
from impact.inference.inputs import BatteryInputs, check_window, inputs
from impact.inference.nonparametric import NONPARAMETRIC
from impact.inference.parametric import PARAMETRIC, average_correlation, brown_warner_1985, estimation_aar
from impact.study.statistics import cross_sectional_t, significance_stars, t_pvalue

CLEAN = {"contamination": "ignore", "roll_days": None}
EST, EV = (-80, -11), (-3, 3)
DAY0 = 200
ASSETS = ["A0", "A1", "A2"]


def frame(seed=21):
    """SYNTHETIC returns: market MKT and three assets; A1 misses 3 estimation days."""
    rng = np.random.default_rng(seed)
    T = 260
    dates = pd.bdate_range("2021-01-01", periods=T)
    m = rng.normal(2e-4, 0.01, T)
    cols = {"MKT": m}
    for i, a in enumerate(ASSETS):
        cols[a] = 1e-4 * i + (0.7 + 0.2 * i) * m + rng.normal(0, 0.01, T)
        cols[a][DAY0] += 0.02 * (i - 0.5)
    f = pd.DataFrame(cols, index=pd.Index(dates, name="date"))
    f.iloc[[DAY0 - 70, DAY0 - 40, DAY0 - 20], f.columns.get_loc("A1")] = np.nan
    return f


def study(f, assets, model="market"):
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[DAY0]]})
    return EventStudy.from_returns(f, events, market="MKT", model=model, estimation_window=EST, event_window=EV,
                                   assets=assets, **CLEAN).fit()


def hand(f, assets, window):
    """Per asset with statsmodels: residuals (NaN on missing rows), sigma^2, df, L, AR and the
    CAR over ``window`` with its CLM (1997) standard error."""
    x = f["MKT"].to_numpy()
    est = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
    ev = np.arange(DAY0 + EV[0], DAY0 + EV[1] + 1)
    out = []
    for a in assets:
        y = f[a].to_numpy()
        ok = np.isfinite(y[est])
        fit = sm.OLS(y[est][ok], sm.add_constant(x[est][ok])).fit()
        resid = np.full(len(est), np.nan)
        resid[ok] = fit.resid
        ar = y[ev] - fit.params[0] - fit.params[1] * x[ev]
        w = (np.arange(EV[0], EV[1] + 1) >= window[0]) & (np.arange(EV[0], EV[1] + 1) <= window[1])
        D = w.sum()
        xe = x[est][ok]
        s = (x[ev][w] - xe.mean()).sum()
        var = fit.mse_resid * (D + D**2 / ok.sum() + s**2 / ((xe - xe.mean()) ** 2).sum())
        out.append(SimpleNamespace(resid=resid, s2=fit.mse_resid, df=fit.df_resid, L=int(ok.sum()), ar=ar,
                                   car=ar[w].sum(), scar=ar[w].sum() / np.sqrt(var), D=D))
    return out


W = (-1, 1)


@pytest.fixture(scope="module")
def f():
    return frame()


@pytest.mark.parametrize("n_pairs", [2, 3])
def test_cross_sectional_tests_with_two_and_three_pairs_by_hand(f, n_pairs):
    assets = ASSETS[:n_pairs]
    res = study(f, assets)
    h = hand(f, assets, W)
    cars = np.array([p.car for p in h])
    scars = np.array([p.scar for p in h])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = {name: run_test(res, name, W).iloc[0] for name in ("t_cs", "bmp", "patell", "sign", "wilcoxon",
                                                                 "brown_warner_1980", "brown_warner_1985")}
    tt = stats.ttest_1samp(cars, 0.0)
    assert got["t_cs"]["statistic"] == pytest.approx(tt.statistic, rel=1e-9)
    assert got["t_cs"]["p_value"] == pytest.approx(tt.pvalue, rel=1e-8)
    tb = stats.ttest_1samp(scars, 0.0)
    assert got["bmp"]["statistic"] == pytest.approx(tb.statistic, rel=1e-9)
    assert got["bmp"]["p_value"] == pytest.approx(tb.pvalue, rel=1e-8)
    dfs = np.array([p.df for p in h])
    z = scars.sum() / np.sqrt((dfs / (dfs - 2)).sum())
    assert got["patell"]["statistic"] == pytest.approx(z, rel=1e-9)
    assert got["patell"]["n"] == n_pairs
    pos = (cars > 0).sum()
    assert got["sign"]["statistic"] == pytest.approx((pos - n_pairs / 2) / np.sqrt(n_pairs / 4), rel=1e-12)
    r = stats.rankdata(np.abs(cars))
    assert got["wilcoxon"]["statistic"] == pytest.approx(r[cars > 0].sum(), rel=1e-12)
    assert got["wilcoxon"]["p_value"] == pytest.approx(stats.wilcoxon(cars).pvalue, rel=1e-10)
    # Brown & Warner (1980): sum CAR / sqrt(sum sigma_i^2 D), Satterthwaite df
    s2 = np.array([p.s2 for p in h]) * 3
    stat = cars.sum() / np.sqrt(s2.sum())
    df = s2.sum() ** 2 / (s2**2 / dfs).sum()
    assert got["brown_warner_1980"]["statistic"] == pytest.approx(stat, rel=1e-9)
    assert got["brown_warner_1980"]["p_value"] == pytest.approx(2 * stats.t.sf(abs(stat), df), rel=1e-8)
    # Brown & Warner (1985): mean CAR / (sd(mean residual per estimation row) sqrt(D))
    R = np.array([p.resid for p in h])
    a_tau = np.array([np.nanmean(R[:, t]) for t in range(R.shape[1])])
    stat = cars.mean() / (a_tau.std(ddof=1) * np.sqrt(3))
    assert got["brown_warner_1985"]["statistic"] == pytest.approx(stat, rel=1e-9)
    assert got["brown_warner_1985"]["p_value"] == pytest.approx(2 * stats.t.sf(abs(stat), len(a_tau) - 1), rel=1e-8)
    for row in got.values():
        assert row["window"] == "[-1,1]" and isinstance(row["n"], (int, np.integer))


def test_one_pair_cross_sectional_tests_are_undefined_and_single_pair_tests_are_not(f):
    res = study(f, ["A0"])
    (p,) = hand(f, ["A0"], W)
    for name in ("t_cs", "bmp", "kolari_pynnonen", "grank"):
        with pytest.raises(ImpactError, match=re.escape(
                f"test {name!r} is undefined for this sample (n = 1 pairs; "
                "cross-sectional tests need at least 2 with non-zero dispersion)")):
            run_test(res, name, W)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inp = inputs(res)
        for name in ("t_cs", "bmp", "kolari_pynnonen", "grank"):
            out = {**PARAMETRIC, **NONPARAMETRIC}[name](inp, W)
            assert np.isnan(out["statistic"]).all() and list(out["n"]) == [1]
        pat = run_test(res, "patell", W).iloc[0]
        sgn = run_test(res, "sign", W).iloc[0]
        bw = run_test(res, "brown_warner_1980", W).iloc[0]
    assert pat["statistic"] == pytest.approx(p.scar / np.sqrt(p.df / (p.df - 2)), rel=1e-9)
    assert sgn["statistic"] == (1.0 if p.car > 0 else -1.0) and sgn["n"] == 1
    stat = p.car / np.sqrt(p.s2 * 3)
    assert bw["statistic"] == pytest.approx(stat, rel=1e-9)
    assert bw["p_value"] == pytest.approx(2 * stats.t.sf(abs(stat), p.df), rel=1e-8)


def no_pairs(inp):
    """The inputs restricted to no pair at all (a placebo draw or a filter can leave none)."""
    keep = np.zeros(len(inp.ar), dtype=bool)
    return BatteryInputs(ar=inp.ar[keep], rel_days=inp.rel_days, resid=inp.resid[keep], x_est=inp.x_est[keep],
                         n_obs=inp.n_obs[keep], df=inp.df[keep], fit=inp.fit.take(keep),
                         benchmark=inp.benchmark[keep])


@pytest.mark.parametrize("window", [None, W])
@pytest.mark.parametrize("name", ["t_cs", "bmp", "sign", "brown_warner_1980", "patell", "wilcoxon", "grank"])
def test_every_test_on_no_pairs_is_nan_with_n_zero(f, name, window):
    empty = no_pairs(inputs(study(f, ASSETS)))
    m = 7 if window is None else 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = {**PARAMETRIC, **NONPARAMETRIC}[name](empty, window)
    assert out["statistic"].shape == (m,) and np.isnan(out["statistic"]).all()
    assert list(out["n"]) == [0] * m
    e, fac, days = empty.factors(window)
    assert e.shape == (0, m) and fac.shape == (0, m) and list(days) == ([1.0] * 7 if window is None else [3.0])


def test_cross_sectional_t_edges():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = cross_sectional_t(pd.Series([0.5, np.nan]))
        none = cross_sectional_t(pd.Series([np.nan]))
        flat = cross_sectional_t(pd.Series([0.2, 0.2]))
        two = cross_sectional_t(pd.Series([0.1, 0.4]))
        three = cross_sectional_t(pd.Series([1, 2, 4]))
    assert list(one.index) == ["mean", "sd", "n", "t", "p_value"]
    assert one["mean"] == 0.5 and one["n"] == 1 and np.isnan(one[["sd", "t", "p_value"]].astype(float)).all()
    assert none["n"] == 0 and np.isnan(none[["mean", "sd", "t", "p_value"]].astype(float)).all()
    assert flat["sd"] == 0 and np.isnan(flat["t"]) and np.isnan(flat["p_value"])
    tt = stats.ttest_1samp([0.1, 0.4], 0.0)
    assert two["t"] == pytest.approx(tt.statistic, rel=1e-12) and two["p_value"] == pytest.approx(tt.pvalue, rel=1e-10)
    assert two["sd"] == pytest.approx(np.std([0.1, 0.4], ddof=1), rel=1e-12)
    tt = stats.ttest_1samp([1.0, 2.0, 4.0], 0.0)
    assert three["t"] == pytest.approx(tt.statistic, rel=1e-12)
    assert float(t_pvalue(2.0, 0)) != float(t_pvalue(2.0, 0)) and np.isnan(t_pvalue(2.0, -1))
    assert significance_stars(np.nan) == "" and significance_stars(0.0099) == "***"


def toy_inputs():
    """HAND-PICKED residuals: pair 0 has 4 usable rows, pair 1 one row, pair 2 two rows,
    pair 3 none; estudy2 benchmark rows with a missing market day."""
    nan = np.nan
    resid = np.array([[0.1, -0.2, 0.4, 0.3], [nan, 0.5, nan, nan], [0.2, nan, -0.1, nan], [nan] * 4])
    x_est = np.array([[[0.01], [0.02], [-0.01], [0.03]], [[0.0], [0.01], [nan], [0.02]],
                      [[0.02], [-0.02], [0.01], [0.0]], [[nan], [0.01], [0.02], [0.01]]])
    bench = np.array([[[0.01], [0.04]], [[-0.02], [0.01]], [[0.0], [0.03]], [[0.02], [0.02]]])
    fit = SimpleNamespace(sigma2=np.array([1.0, 2.0, 3.0, 4.0]))
    inp = BatteryInputs(ar=np.array([[0.1, 0.2], [0.3, -0.1], [0.0, 0.5], [0.2, 0.1]]), rel_days=np.array([0, 1]),
                        resid=resid, x_est=x_est, n_obs=np.array([4.0, 1.0, 2.0, 3.0]), df=np.array([2.0, 0, 0, 1]),
                        fit=fit, benchmark=bench)
    return inp


def test_sigma2_conventions_by_hand():
    inp = toy_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        n1, n0, ols = inp.sigma2("n-1"), inp.sigma2("n"), inp.sigma2()
        again = inp.sigma2("n-1")
    r0 = np.array([0.1, -0.2, 0.4, 0.3])
    np.testing.assert_allclose(n1[:3], [r0.var(ddof=1), np.nan, np.var([0.2, -0.1], ddof=1)], rtol=1e-12)
    assert np.isnan(n1[1]) and np.isnan(n1[3])
    np.testing.assert_allclose(n0[:3], [r0.var(), 0.0, np.var([0.2, -0.1])], rtol=1e-12, atol=1e-18)
    assert np.isnan(n0[3])
    assert ols.dtype == np.float64 and list(ols) == [1.0, 2.0, 3.0, 4.0]
    assert again is n1  # cached per convention
    assert inp.sigma2("n") is n0 and not np.array_equal(n0, n1, equal_nan=True)
    with pytest.raises(ImpactError, match=re.escape("sigma must be one of ols, n-1, n, got 'N'")):
        inp.sigma2("N")


def test_estudy2_prediction_error_factor_by_hand():
    """pe_rows="benchmark": xbar and the centred cross-products over every row where the
    benchmark is observed; f = D + D^2 / L_i + s^2 / Sxx per pair."""
    inp = toy_inputs()
    for window, cols in ((None, [[0], [1]]), ((0, 1), [[0, 1]])):
        e, f, days = inp.factors(window, pe_rows="benchmark")
        for i in range(4):
            x = inp.x_est[i, :, 0]
            x = x[np.isfinite(x)]
            xbar, sxx = x.mean(), ((x - x.mean()) ** 2).sum()
            for j, c in enumerate(cols):
                D = len(c)
                s = (inp.benchmark[i, c, 0] - xbar).sum()
                assert f[i, j] == pytest.approx(D + D**2 / inp.n_obs[i] + s**2 / sxx, rel=1e-12)
                assert e[i, j] == pytest.approx(inp.ar[i, c].sum(), rel=1e-12)
            assert days.dtype == np.float64
    with pytest.raises(ImpactError, match=re.escape("pe_rows must be one of pair, benchmark, got 'bench'")):
        inp.factors(None, pe_rows="bench")


def test_estimation_aar_and_average_correlation_edges():
    inp = toy_inputs()
    a = estimation_aar(inp)
    np.testing.assert_allclose(a, [0.15, 0.15, 0.15, 0.3], rtol=1e-12)
    inp.resid[:, 3] = np.nan
    assert np.isnan(estimation_aar(inp)[3])
    # one usable row and one pair: undefined, not an error
    assert np.isnan(average_correlation(np.array([[0.1, np.nan]])))
    # two pairs, complete rows: the Pearson correlation
    r = np.array([[0.1, -0.2, 0.4, 0.3], [0.2, -0.1, 0.1, 0.5]])
    assert average_correlation(r) == pytest.approx(np.corrcoef(r)[0, 1], rel=1e-12)
    # a constant pair contributes nothing; a missing row is skipped
    r3 = np.vstack([r, [0.2, 0.2, 0.2, 0.2]])
    assert average_correlation(r3) == pytest.approx(np.corrcoef(r)[0, 1], rel=1e-12)
    rm = r.copy()
    rm[1, 0] = np.nan
    z = [(v[np.isfinite(v)] - v[np.isfinite(v)].mean()) / v[np.isfinite(v)].std() for v in rm]
    want = (z[0][1:] * z[1]).sum() / 3
    assert average_correlation(rm) == pytest.approx(want, rel=1e-12)


def test_brown_warner_1985_with_two_and_one_estimation_rows():
    inp = toy_inputs()
    two = replace(inp, resid=inp.resid[:, :2].copy(), memo={})
    a = np.array([0.15, 0.15])
    a[0] = np.mean([0.1, 0.2])
    a[1] = np.mean([-0.2, 0.5])
    out = brown_warner_1985(two, None)
    mean = inp.ar.mean(axis=0)
    np.testing.assert_allclose(out["statistic"], mean / a.std(ddof=1), rtol=1e-12)
    np.testing.assert_allclose(out["p_value"], 2 * stats.t.sf(np.abs(mean / a.std(ddof=1)), 1), rtol=1e-10)
    one = replace(inp, resid=inp.resid[:, :1].copy(), memo={})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = brown_warner_1985(one, (0, 1))
    assert np.isnan(out["statistic"]).all() and list(out["n"]) == [4]


def test_battery_table_defaults_names_and_windows(f):
    res = study(f, ASSETS)
    table = battery_table(res)
    names = [t for t in TESTS if t != "placebo"]
    assert list(table.columns) == ["test", "window", "statistic", "p_value", "n", "r_bar", "p_hat", "mean_sar",
                                   "var_sar", "sd_sar", "mean_rank", "rank_sd", "n_pos", "n_neg", "stars"]
    assert list(table["test"]) == [n for n in names for _ in range(3)]
    assert list(table["window"]) == ["[0,0]", "[-1,1]", "[-3,3]"] * len(names)
    assert list(table.index) == list(range(3 * len(names)))
    for row in table.itertuples():
        w = tuple(int(v) for v in row.window.strip("[]").split(","))
        want = run_test(res, row.test, w).iloc[0]
        assert row.statistic == want["statistic"] and row.p_value == want["p_value"] and row.n == want["n"]
        assert row.stars == significance_stars(row.p_value)
    pd.testing.assert_frame_equal(res.tests, table)
    two = battery_table(res, names=["sign", "t_cs"], windows=[(0, 1), [0, 1], (-2, 2)])
    assert list(two["test"]) == ["sign", "sign", "t_cs", "t_cs"]
    assert list(two["window"]) == ["[0,1]", "[-2,2]"] * 2
    narrow = EventStudy.from_returns(f, pd.DataFrame({"event_id": ["e"], "date": [f.index[DAY0]]}), market="MKT",
                                     estimation_window=EST, event_window=(0, 2), **CLEAN).fit()
    assert list(battery_table(narrow, names=["sign"])["window"]) == ["[0,0]", "[0,2]"]


def test_run_test_columns_and_exact_errors(f):
    res = study(f, ASSETS)
    day = run_test(res, "sign")
    assert list(day.columns) == ["rel_day", "statistic", "p_value", "n", "n_pos", "n_neg"]
    assert list(day["rel_day"]) == list(range(EV[0], EV[1] + 1)) and day["n"].dtype.kind == "i"
    win = run_test(res, "generalized_sign", (0, 1))
    assert list(win.columns) == ["window", "statistic", "p_value", "n", "p_hat", "n_pos", "n_neg"]
    assert win["n"].dtype.kind == "i"
    choose = ", ".join([*PARAMETRIC, *NONPARAMETRIC, "placebo"])
    with pytest.raises(ImpactError, match=re.escape(f"unknown test 'nope' (choose from {choose})")):
        run_test(res, "nope")
    with pytest.raises(ImpactError, match=re.escape(
            "test 'sign': got an unexpected keyword argument 'sigma'")):
        run_test(res, "sign", (0, 1), sigma="n")
    with pytest.raises(ImpactError, match=re.escape(
            "window must be a pair of integers (start, end), got 'ab'")):
        check_window(res, "ab")
    with pytest.raises(ImpactError, match=re.escape(
            "window (-4, 0) must be an ordered range inside the event window (-3, 3)")):
        check_window(res, (-4, 0))
    assert check_window(res, None) is None and check_window(res, (1.0, 2)) == (1, 2)
    with pytest.raises(ImpactError, match=re.escape(
            "this result carries no estimation rows; refit with EventStudy.fit()")):
        inputs(replace(res, rows=None, _cache={}) if hasattr(res, "__dataclass_fields__") else None)


def test_pair_car_test_columns_by_hand(f):
    res = study(f, ASSETS)
    h = hand(f, ASSETS, (0, 1))
    out = pair_car_test(res, (0, 1))
    assert list(out.columns) == ["event_id", "asset", "window", "car", "t", "p_value", "df"]
    np.testing.assert_allclose(out["car"], [p.car for p in h], rtol=1e-10)
    np.testing.assert_allclose(out["t"], [p.scar for p in h], rtol=1e-9)
    np.testing.assert_allclose(out["df"], [p.df for p in h])
    eventstudy_py = pair_car_test(res, (0, 1), sigma="n", prediction_error=False, df=30)
    for p, row in zip(h, eventstudy_py.itertuples()):
        L = p.L
        s2 = np.nanvar(p.resid)  # denominator L
        t = p.car / np.sqrt(2 * s2)
        assert row.t == pytest.approx(t, rel=1e-9) and row.df == 30
        assert row.p_value == pytest.approx(2 * stats.t.sf(abs(t), 30), rel=1e-8)
        assert L == np.isfinite(p.resid).sum()
