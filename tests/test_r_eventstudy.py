"""Reproducing R EventStudy (sipemu/eventstudy) and auditing statistics by their components
(issue 15). No R golden values exist offline, so each switch is checked against a brute-force
computation written here with numpy loops — from the returns, not from the package's
intermediate arrays — on a labelled SYNTHETIC frame with missing days and on the real
bundled prices:

* ``test("patell", window, multiday="csar")``: R's ``caar_z`` = sum_i CSAR_i / sqrt(D Q_i) / sqrt(N),
  CSAR_i the sum of the daily forecast-error-standardised ARs, Q_i = (M_i - 2)/(M_i - 4);
* ``test("corrado_rank", convention="r_eventstudy")``: R's ``rank_z`` = mean_rank / S_rank,
  U = rank/(M + 1) - 1/2, S_rank the sample sd of the per-day mean U;
* components: ``mean_sar``/``var_sar``/``sd_sar``, ``n_pos``/``n_neg``, ``mean_rank``/``rank_sd``;
* ``bhar()``'s per-pair se and t, and simple vs log returns on every constructor.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impact
from impact.errors import ImpactError

EST, EV = (-120, -11), (-3, 3)


def synthetic_frame():
    """SYNTHETIC daily returns of four assets and a market, with missing days in the
    estimation windows (one asset loses ten days, another scattered days)."""
    dates = pd.bdate_range("2023-01-02", periods=320)
    rng = np.random.default_rng(15)
    mkt = rng.normal(0, 0.01, 320)
    f = pd.DataFrame({a: 1e-4 + b * mkt + rng.normal(0, s, 320)
                      for a, b, s in (("A", 0.8, 0.012), ("B", 1.2, 0.02), ("C", 0.5, 0.008), ("D", 1.0, 0.015))},
                     index=dates).assign(MKT=mkt)
    f.iloc[200:210, 0] = np.nan
    f.iloc[[180, 190, 230, 233], 2] = np.nan
    events = pd.DataFrame({"event_id": ["e1", "e2", "e3", "e4"], "asset": ["A", "B", "C", "D"],
                           "date": dates[[280, 280, 290, 300]]})
    return f, events


@pytest.fixture(scope="module")
def synthetic():
    f, events = synthetic_frame()
    res = impact.EventStudy.from_returns(f, events, market="MKT", estimation_window=EST, event_window=EV,
                                         contamination="ignore").fit()
    return res, f, events


def by_hand(f, events, market="MKT"):
    """Per pair, from the returns: estimation residuals (NaN where missing), event ARs, the
    daily forecast-error factors 1 + 1/M + (x_t - xbar)^2 / Sxx and sigma^2 = SSR/(M - 2)."""
    out = []
    for _, ev in events.iterrows():
        p0 = f.index.get_loc(pd.Timestamp(ev["date"]))
        y, x = f[ev["asset"]].to_numpy(), f[market].to_numpy()
        rows = np.arange(p0 + EST[0], p0 + EST[1] + 1)
        ok = np.isfinite(y[rows])
        ye, xe = y[rows][ok], x[rows][ok]
        M = len(ye)
        beta = ((xe - xe.mean()) * (ye - ye.mean())).sum() / ((xe - xe.mean()) ** 2).sum()
        alpha = ye.mean() - beta * xe.mean()
        resid = np.full(len(rows), np.nan)
        resid[ok] = ye - alpha - beta * xe
        s2 = np.nansum(resid**2) / (M - 2)
        evrows = np.arange(p0 + EV[0], p0 + EV[1] + 1)
        ar = y[evrows] - alpha - beta * x[evrows]
        fac = 1 + 1 / M + (x[evrows] - xe.mean()) ** 2 / ((xe - xe.mean()) ** 2).sum()
        out.append({"resid": resid, "ar": ar, "fac": fac, "s2": s2, "M": M})
    return out


def hand_csar_patell(pairs, a, b):
    days = np.arange(EV[0], EV[1] + 1)
    w = (days >= a) & (days <= b)
    D = w.sum()
    z = []
    for p in pairs:
        sar = p["ar"] / np.sqrt(p["s2"] * p["fac"])
        Q = (p["M"] - 2) / (p["M"] - 4)
        z.append(sar[w].sum() / np.sqrt(D * Q))
    return np.sum(z) / np.sqrt(len(z)), np.mean(z)


def hand_r_rank(pairs):
    """R's RankTest: per pair rank(c(est, event)) / (M + 1) - 0.5; per-day mean over pairs;
    S = sd(per-day means) over all days; event-day statistic mean / S."""
    L = len(pairs[0]["resid"])
    U = []
    for p in pairs:
        v = np.r_[p["resid"], p["ar"]]
        ok = np.isfinite(v)
        u = np.full(len(v), np.nan)
        u[ok] = stats.rankdata(v[ok]) / (ok.sum() + 1) - 0.5
        U.append(u)
    U = np.array(U)
    day_mean = np.array([np.mean(col[np.isfinite(col)]) for col in U.T])
    S = np.std(day_mean, ddof=1)
    return day_mean[L:], S


@pytest.mark.parametrize("window", [(0, 0), (-1, 1), (-3, 3), (0, 2)])
def test_patell_csar_by_brute_force_on_synthetic_missing_days(synthetic, window):
    res, f, events = synthetic
    assert sorted(res.params["n_obs"]) == [100, 106, 110, 110]  # the missing days are missing
    got = res.test("patell", window, multiday="csar").iloc[0]
    stat, mean_z = hand_csar_patell(by_hand(f, events), *window)
    assert got["statistic"] == pytest.approx(stat, rel=1e-10)
    assert got["mean_sar"] == pytest.approx(mean_z, rel=1e-10) and got["var_sar"] == 1.0
    assert got["p_value"] == pytest.approx(2 * stats.norm.sf(abs(stat)), rel=1e-10)
    assert got["n"] == 4
    default = res.test("patell", window).iloc[0]
    if window[0] != window[1]:  # the CAR standardised by its own variance is another number
        assert default["statistic"] != pytest.approx(stat, rel=1e-6)
    # the default's components: statistic = sqrt(N) mean_sar / sqrt(var_sar)
    assert default["statistic"] == pytest.approx(np.sqrt(4) * default["mean_sar"] / np.sqrt(default["var_sar"]),
                                                 rel=1e-12)
    Q = [(p["M"] - 2) / (p["M"] - 4) for p in by_hand(f, events)]
    assert default["var_sar"] == pytest.approx(np.mean(Q), rel=1e-12)


def test_patell_csar_per_day_is_the_daily_patell_and_bad_option(synthetic):
    res, _, _ = synthetic
    pd.testing.assert_frame_equal(res.test("patell", multiday="csar"), res.test("patell"))
    with pytest.raises(ImpactError, match="^multiday must be 'car' or 'csar', got 'x'$"):
        res.test("patell", (0, 1), multiday="x")


def test_r_rank_by_brute_force_on_synthetic_missing_days(synthetic):
    res, f, events = synthetic
    day_mean, S = hand_r_rank(by_hand(f, events))
    got = res.test("corrado_rank", convention="r_eventstudy")
    np.testing.assert_allclose(got["statistic"], day_mean / S, rtol=1e-10)
    np.testing.assert_allclose(got["mean_rank"], day_mean, rtol=1e-10)
    np.testing.assert_allclose(got["rank_sd"], S, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], 2 * stats.norm.sf(np.abs(day_mean / S)), rtol=1e-10)
    assert list(got["n"]) == [4] * 7
    win = res.test("corrado_rank", (-1, 1), convention="r_eventstudy").iloc[0]
    assert win["statistic"] == pytest.approx(day_mean[2:5].sum() / (np.sqrt(3) * S), rel=1e-10)
    assert win["mean_rank"] == pytest.approx(day_mean[2:5].mean(), rel=1e-10) and win["n"] == 4
    # the impact convention is a different scale (centred K, root mean square)
    assert res.test("corrado_rank")["statistic"].iloc[3] != pytest.approx(day_mean[3] / S, rel=1e-6)


@pytest.fixture(scope="module")
def real():
    """Real bundled prices: five assets against the S&P 500 on three 2025 announcements."""
    prices = impact.datasets.load_prices(["GSPC", "SPY", "QQQ", "SOXX", "KWEB", "FXI"])
    wide = prices.pivot(index="date", columns="symbol", values="adj_close")
    r = np.log(wide).diff().dropna()
    events = pd.DataFrame({"event_id": ["a", "b", "c", "d", "e"], "asset": ["SPY", "QQQ", "SOXX", "KWEB", "FXI"],
                           "date": pd.to_datetime(["2025-04-03", "2025-04-03", "2025-10-10", "2025-10-10",
                                                   "2025-04-04"])})
    res = impact.EventStudy.from_returns(r, events, market="GSPC", estimation_window=EST, event_window=EV,
                                         contamination="ignore").fit()
    return res, r, events


def test_switches_and_components_on_real_prices(real):
    res, r, events = real
    pairs = by_hand(r, events, market="GSPC")
    for window in ((0, 0), (-1, 1), (0, 3)):
        stat, _ = hand_csar_patell(pairs, *window)
        assert res.test("patell", window, multiday="csar")["statistic"].iloc[0] == pytest.approx(stat, rel=1e-10)
    day_mean, S = hand_r_rank(pairs)
    np.testing.assert_allclose(res.test("corrado_rank", convention="r_eventstudy")["statistic"], day_mean / S,
                               rtol=1e-10)
    # BMP and Kolari-Pynnonen: mean and sd of the day's SARs
    sar0 = np.array([p["ar"][3] / np.sqrt(p["s2"] * p["fac"][3]) for p in pairs])
    for name in ("bmp", "kolari_pynnonen"):
        row = res.test(name).iloc[3]
        assert row["mean_sar"] == pytest.approx(sar0.mean(), rel=1e-10)
        assert row["sd_sar"] == pytest.approx(sar0.std(ddof=1), rel=1e-10)
    bmp = res.test("bmp").iloc[3]
    assert bmp["statistic"] == pytest.approx(np.sqrt(5) * bmp["mean_sar"] / bmp["sd_sar"], rel=1e-12)
    # sign tests: N+ and N- of the day-0 ARs (and of the CARs for a window)
    ar0 = np.array([p["ar"][3] for p in pairs])
    for name in ("sign", "generalized_sign"):
        row = res.test(name).iloc[3]
        assert (row["n_pos"], row["n_neg"]) == ((ar0 > 0).sum(), (ar0 <= 0).sum())
    car = np.array([p["ar"][2:5].sum() for p in pairs])
    row = res.test("sign", (-1, 1)).iloc[0]
    assert (row["n_pos"], row["n_neg"]) == ((car > 0).sum(), (car <= 0).sum())
    assert row["statistic"] == pytest.approx((row["n_pos"] - 2.5) / np.sqrt(5 / 4), rel=1e-12)
    # Corrado (impact convention): statistic = sqrt(D) mean_rank / rank_sd; GRANK: Z = mean_rank / rank_sd
    for window in (None, (-1, 1)):
        t = res.test("corrado_rank", window)
        D = 1 if window is None else 3
        np.testing.assert_allclose(t["statistic"], np.sqrt(D) * t["mean_rank"] / t["rank_sd"], rtol=1e-12)
        t2 = res.test("corrado_rank", window, convention="estudy2")
        np.testing.assert_allclose(t2["statistic"], np.sqrt(D) * t2["mean_rank"] / t2["rank_sd"], rtol=1e-12)
    g = res.test("grank", (0, 0)).iloc[0]
    Z = g["mean_rank"] / g["rank_sd"]
    T = 120 - 10 + 1  # the estimation rows plus the event value
    assert g["statistic"] == pytest.approx(Z * np.sqrt((T - 2) / (T - 1 - Z**2)), rel=1e-10)


def test_corrado_rank_impact_components_by_hand(synthetic):
    """Corrado (1989) day statistic: dbar_t = mean_i (K_it - (M_i + 1)/2), S = sqrt(mean_t dbar_t^2)."""
    res, f, events = synthetic
    pairs = by_hand(f, events)
    D = []
    for p in pairs:
        v = np.r_[p["resid"], p["ar"]]
        ok = np.isfinite(v)
        d = np.full(len(v), np.nan)
        d[ok] = stats.rankdata(v[ok]) - (ok.sum() + 1) / 2
        D.append(d)
    D = np.array(D)
    dbar = np.array([col[np.isfinite(col)].mean() for col in D.T])
    S = np.sqrt(np.mean(dbar**2))
    got = res.test("corrado_rank")
    np.testing.assert_allclose(got["mean_rank"], dbar[-7:], rtol=1e-10)
    np.testing.assert_allclose(got["rank_sd"], S, rtol=1e-10)


def test_bhar_standard_error_and_t_by_hand(real):
    """se = (1 + normal BHR) sqrt(Var(CAR)) (delta method), t = BHAR / se, p from t(df)."""
    res, r, events = real
    bh = res.bhar((-1, 1))
    car = res.car((-1, 1))
    pairs = by_hand(r, events, market="GSPC")
    for i, p in enumerate(pairs):
        ret = r[events["asset"][i]].to_numpy()
        p0 = r.index.get_loc(events["date"][i])
        normal = ret[p0 - 1: p0 + 2] - p["ar"][2:5]
        nbhr = np.expm1(normal.sum())
        bhar = np.expm1(ret[p0 - 1: p0 + 2].sum()) - nbhr
        se = (1 + nbhr) * car["se"].iloc[i]
        assert bh["bhar"].iloc[i] == pytest.approx(bhar, rel=1e-10)
        assert bh["se"].iloc[i] == pytest.approx(se, rel=1e-12)
        assert bh["t"].iloc[i] == pytest.approx(bhar / se, rel=1e-10)
        assert bh["p_value"].iloc[i] == pytest.approx(2 * stats.t.sf(abs(bhar / se), car["df"].iloc[i]), rel=1e-9)
        # first order: the BHAR t is close to the CAR t for small moves
        assert bh["t"].iloc[i] == pytest.approx(car["t"].iloc[i], rel=0.1)


def test_bhar_simple_and_log_on_the_prices_constructor():
    """EventStudy(prices, returns=...) with the market model: simple returns compound, log
    returns are summed first — the asset leg from the closes, by hand."""
    prices = impact.datasets.load_prices(["SPY", "GSPC"])
    events = pd.DataFrame({"event_id": ["x"], "asset": ["SPY"], "date": ["2025-10-10"]})
    closes = prices.pivot(index="date", columns="symbol", values="adj_close")
    p0 = closes.index.get_loc(pd.Timestamp("2025-10-10"))
    bhr = closes["SPY"].iloc[p0 + 1] / closes["SPY"].iloc[p0 - 2] - 1  # held over days -1..+1
    for kind in ("simple", "log"):
        res = impact.EventStudy(prices, events, market="GSPC", returns=kind, contamination="ignore",
                                roll_days=None).fit()
        got = res.bhar((-1, 1)).iloc[0]
        assert got["bhr"] == pytest.approx(bhr, rel=1e-10)
        par = res.params.iloc[0]
        m = closes["GSPC"].iloc[p0 - 2: p0 + 2].to_numpy()
        mret = m[1:] / m[:-1] - 1 if kind == "simple" else np.log(m[1:] / m[:-1])
        normal = par["alpha"] + par["beta"] * mret
        want = np.prod(1 + normal) - 1 if kind == "simple" else np.expm1(normal.sum())
        assert got["normal_bhr"] == pytest.approx(want, rel=1e-10)
