"""Core formulas re-derived independently of the package (issue 11, "tests that would
not catch a bug").

Every expected number here is built from the raw returns or prices with plain numpy
loops, statsmodels or scipy, written from the papers (docs/methods.md), never with
the package's own helpers. The data has the awkward features the missing-data code
paths exist for: missing days that differ by asset inside the estimation window,
returns rounded to 1e-4 (ties) and days on which an asset returns exactly the
market (zero market-adjusted residuals and ARs).

Each test is the one that catches a bug that survived the old suite (planted by hand
one at a time, see benchmarks/MUTATION.md): r-bar over L instead of the usable rows,
Cowan's p-hat over L, MVRM F = W instead of W/q, the CAAR band with z instead of t,
and the placebo exclusion off by one at the edges.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from impact import EventStudy, ImpactError
from impact.inference.battery import pair_car_test
from impact.inference.inputs import BatteryInputs
from impact.inference.mvrm import mvrm
from impact.inference.nonparametric import corrado_rank, corrado_sign, generalized_sign, grank, modified_rank, wilcoxon
from impact.inference.placebo import _allowed_positions, _p_two_sided, placebo_draws, placebo_test
from impact.study.statistics import significance_stars

CLEAN = {"contamination": "ignore", "roll_days": None}  # windows exactly as written, for hand checks
EST, EV = (-150, -11), (-5, 5)
DAY0 = 260
N_ASSETS = 6
ASSETS = [f"A{i}" for i in range(N_ASSETS)]
TIED_EST = np.array([DAY0 - 140, DAY0 - 97, DAY0 - 60, DAY0 - 33, DAY0 - 12])  # A0, A1 == MKT on these rows


def synthetic_frame(seed: int = 11) -> pd.DataFrame:
    """SYNTHETIC daily log returns (seeded RNG; not market data): a market, a common
    industry factor (cross-correlated residuals, r-bar > 0), noise; rounded to 1e-4 so
    values tie; 2 + i missing days for asset A<i> in its estimation window; A0 and A1
    equal the market on a few estimation days and A0 also on day 0 and day +2."""
    rng = np.random.default_rng(seed)
    T = 300
    dates = pd.bdate_range("2019-01-01", periods=T)
    m = np.round(rng.normal(3e-4, 0.01, T), 4)
    common = rng.normal(0, 0.005, T)
    cols = {"MKT": m}
    for i in range(N_ASSETS):
        cols[ASSETS[i]] = np.round(1e-4 * i + (0.5 + 0.2 * i) * m + common + rng.normal(0, 0.008 + 0.001 * i, T), 4)
    frame = pd.DataFrame(cols, index=pd.Index(dates, name="date"))
    for a in ("A0", "A1"):
        frame.iloc[TIED_EST, frame.columns.get_loc(a)] = m[TIED_EST]
    frame.iloc[[DAY0, DAY0 + 2], frame.columns.get_loc("A0")] = m[[DAY0, DAY0 + 2]]
    est_rows = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
    for i in range(N_ASSETS):
        free = np.setdiff1d(est_rows, TIED_EST)
        frame.iloc[rng.choice(free, size=2 + i, replace=False), 1 + i] = np.nan
    return frame


def study(frame, model="market", **kw):
    events = pd.DataFrame({"event_id": ["e1"], "date": [frame.index[DAY0]]})
    return EventStudy.from_returns(frame, events, market="MKT", model=model, estimation_window=EST,
                                   event_window=EV, **CLEAN, **kw).fit()


@pytest.fixture(scope="module")
def frame():
    return synthetic_frame()


@pytest.fixture(scope="module")
def result(frame):
    return study(frame)


def by_hand(frame):
    """Per asset, statsmodels OLS of the market model on the usable estimation rows:
    residuals on the L estimation rows (NaN where missing), ARs and standardised ARs
    (AR / se of the prediction, CLM 1997 eq. 4.4.14) of the event days."""
    out = {}
    x_all = frame["MKT"].to_numpy()
    est = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
    ev = np.arange(DAY0 + EV[0], DAY0 + EV[1] + 1)
    for a in ASSETS:
        y = frame[a].to_numpy()
        ok = np.isfinite(y[est]) & np.isfinite(x_all[est])
        fit = sm.OLS(y[est][ok], sm.add_constant(x_all[est][ok])).fit()
        resid = np.full(len(est), np.nan)
        resid[ok] = fit.resid
        Xev = sm.add_constant(x_all[ev], has_constant="add")
        ar = y[ev] - fit.predict(Xev)
        sar = ar / fit.get_prediction(Xev).se_obs
        out[a] = dict(resid=resid, ar=ar, sar=sar, L=int(ok.sum()))
    return out


def test_the_synthetic_frame_has_missing_rows_and_ties(frame, result):
    hand = by_hand(frame)
    L = EST[1] - EST[0] + 1
    assert [hand[a]["L"] for a in ASSETS] == [L - 2 - i for i in range(N_ASSETS)]
    assert list(result.params["n_obs"]) == [L - 2 - i for i in range(N_ASSETS)]
    assert frame["A3"].duplicated().sum() > 0  # rounding makes values tie


# ---- Kolari & Pynnonen (2010) ----------------------------------------------------------

def brute_force_r_bar(resid: np.ndarray) -> float:
    """Mean off-diagonal correlation, brute force over pairs (i != j) and rows: each pair's
    residuals standardised over ITS OWN usable rows (mean and sd, ddof 0), then
    sum of z_i z_j over rows both observe / number of such (i, j, row) cells."""
    N, L = resid.shape
    z = np.full_like(resid, np.nan)
    for i in range(N):
        use = [t for t in range(L) if np.isfinite(resid[i, t])]
        v = np.array([resid[i, t] for t in use])
        mu = sum(v) / len(v)
        sd = np.sqrt(sum((v - mu) ** 2) / len(v))
        for t in use:
            z[i, t] = (resid[i, t] - mu) / sd
    num, cells = 0.0, 0
    for i in range(N):
        for j in range(N):
            if i == j:
                continue
            for t in range(L):
                if np.isfinite(z[i, t]) and np.isfinite(z[j, t]):
                    num += z[i, t] * z[j, t]
                    cells += 1
    return num / cells


def test_kolari_pynnonen_r_bar_and_statistic_with_missing_rows(frame, result):
    hand = by_hand(frame)
    R = np.array([hand[a]["resid"] for a in ASSETS])
    SAR = np.array([hand[a]["sar"] for a in ASSETS])
    r = brute_force_r_bar(R)
    assert 0.05 < r < 0.9  # the common factor correlates the residuals
    N = N_ASSETS
    bmp = SAR.mean(axis=0) / (SAR.std(axis=0, ddof=1) / np.sqrt(N))
    kp = bmp * np.sqrt((1 - r) / (1 + (N - 1) * r))
    got = result.test("kolari_pynnonen")
    np.testing.assert_allclose(got["r_bar"], r, rtol=1e-10)
    np.testing.assert_allclose(got["statistic"], kp, rtol=1e-9)
    np.testing.assert_allclose(got["p_value"], 2 * stats.t.sf(np.abs(kp), N - 1), rtol=1e-8)
    # window version: SCAR over [-1, 1] with the CLM variance of the CAR
    w = slice(4, 7)
    x = frame["MKT"].to_numpy()
    scar = []
    for a in ASSETS:
        y = frame[a].to_numpy()
        est = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
        ok = np.isfinite(y[est])
        xe, ye = x[est][ok], y[est][ok]
        fit = sm.OLS(ye, sm.add_constant(xe)).fit()
        D = 3
        xs = x[DAY0 - 1:DAY0 + 2].sum()
        var = fit.mse_resid * (D + D**2 / len(xe) + (xs - D * xe.mean()) ** 2 / ((xe - xe.mean()) ** 2).sum())
        scar.append(hand[a]["ar"][w].sum() / np.sqrt(var))
    scar = np.array(scar)
    kpw = scar.mean() / (scar.std(ddof=1) / np.sqrt(N)) * np.sqrt((1 - r) / (1 + (N - 1) * r))
    assert result.test("kolari_pynnonen", window=(-1, 1))["statistic"].iloc[0] == pytest.approx(kpw, rel=1e-9)


# ---- generalized sign (Cowan 1992) -----------------------------------------------------

def cowan_p_hat(resid: np.ndarray) -> float:
    """Mean over pairs of each pair's share of positive residuals among ITS usable rows."""
    shares = []
    for row in resid:
        usable = [v for v in row if np.isfinite(v)]
        shares.append(sum(1 for v in usable if v > 0) / len(usable))
    return sum(shares) / len(shares)


def test_generalized_sign_p_hat_over_usable_rows(frame, result):
    hand = by_hand(frame)
    R = np.array([hand[a]["resid"] for a in ASSETS])
    AR = np.array([hand[a]["ar"] for a in ASSETS])
    p = cowan_p_hat(R)
    N = N_ASSETS
    pos = (AR > 0).sum(axis=0)
    z = (pos - N * p) / np.sqrt(N * p * (1 - p))
    got = result.test("generalized_sign")
    np.testing.assert_allclose(got["p_hat"], p, rtol=1e-12)
    np.testing.assert_allclose(got["statistic"], z, rtol=1e-10)
    np.testing.assert_allclose(got["p_value"], 2 * stats.norm.sf(np.abs(z)), rtol=1e-9)
    # estudy2's pooled p: all pairs' usable days together
    pooled = np.nansum(R > 0) / np.isfinite(R).sum()
    np.testing.assert_allclose(result.test("generalized_sign", p_hat="pooled")["p_hat"], pooled, rtol=1e-12)


def test_generalized_sign_with_zero_residuals_and_ars(frame):
    """Market-adjusted: e = R - R_m is exactly 0 on the tied days; zero is not positive,
    but the day still counts in N and in the pair's usable rows."""
    res = study(frame, model="market_adjusted")
    est = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
    ev = np.arange(DAY0 + EV[0], DAY0 + EV[1] + 1)
    m = frame["MKT"].to_numpy()
    R = np.array([frame[a].to_numpy()[est] - m[est] for a in ASSETS])
    AR = np.array([frame[a].to_numpy()[ev] - m[ev] for a in ASSETS])
    assert (R[:2] == 0).sum() == 10 and (AR[0, [5, 7]] == 0).all()
    p = cowan_p_hat(R)
    pos, n = (AR > 0).sum(axis=0), np.isfinite(AR).sum(axis=0)
    got = res.test("generalized_sign")
    np.testing.assert_allclose(got["p_hat"], p, rtol=1e-12)
    np.testing.assert_allclose(got["statistic"], (pos - n * p) / np.sqrt(n * p * (1 - p)), rtol=1e-10)
    assert (got["n"] == N_ASSETS).all()
    # the plain sign test: zeros are not positive either
    np.testing.assert_allclose(res.test("sign")["statistic"], (pos - n / 2) / np.sqrt(n / 4), rtol=1e-12)


# ---- MVRM (Binder 1985) ----------------------------------------------------------------

def test_mvrm_wald_and_f_by_value(frame, result):
    """Identical regressors (one market): SUR is equation-by-equation OLS (Zellner 1962),
    Cov(b) = Sigma (x) (X'X)^-1 with Sigma = E'E / (T - K). Estimation rows: the dates on
    which every asset is observed."""
    x = frame["MKT"].to_numpy()
    Y_all = frame[ASSETS].to_numpy()
    est = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
    common = est[np.isfinite(Y_all[est]).all(axis=1)]
    ev = np.arange(DAY0 + EV[0], DAY0 + EV[1] + 1)
    rows = np.concatenate([common, ev])
    W_days = len(ev)
    X = np.column_stack([np.ones(len(rows)), x[rows], np.vstack([np.zeros((len(common), W_days)), np.eye(W_days)])])
    Y = Y_all[rows]
    T, K = X.shape
    N = N_ASSETS
    B = np.linalg.solve(X.T @ X, X.T @ Y)
    E = Y - X @ B
    sigma = E.T @ E / (T - K)
    c = np.zeros(K)
    c[2 + 4:2 + 7] = 1.0  # dummies of rel_days -1, 0, +1
    g = c @ B
    Vg = sigma * (c @ np.linalg.solve(X.T @ X, c))
    w_zero = g @ np.linalg.solve(Vg, g)
    D = np.column_stack([np.eye(N - 1), -np.ones(N - 1)])
    w_equal = (D @ g) @ np.linalg.solve(D @ Vg @ D.T, D @ g)
    got = mvrm(result, (-1, 1)).tests.set_index("hypothesis")
    denom = N * (T - K)
    for hyp, w, q in (("zero", w_zero, N), ("equal", w_equal, N - 1)):
        row = got.loc[hyp]
        assert row["n_obs"] == T and row["df"] == q and row["f_df_denom"] == denom
        assert row["statistic"] == pytest.approx(w, rel=1e-8)
        assert row["p_value"] == pytest.approx(stats.chi2.sf(w, q), rel=1e-7)
        assert row["f_stat"] == pytest.approx(w / q, rel=1e-8)
        assert row["f_p_value"] == pytest.approx(stats.f.sf(w / q, q, denom), rel=1e-7)


# ---- CAAR path and its band ------------------------------------------------------------

@pytest.mark.parametrize("level", [0.95, 0.9])
def test_caar_path_band_uses_student_t_with_n_minus_1(frame, result, level):
    hand = by_hand(frame)
    cum = np.cumsum(np.array([hand[a]["ar"] for a in ASSETS]), axis=1)
    n = N_ASSETS
    mean = cum.mean(axis=0)
    se = cum.std(axis=0, ddof=1) / np.sqrt(n)
    crit = stats.t.ppf(0.5 + level / 2, n - 1)  # 2.571 for 95% with n = 6 (z would be 1.960)
    path = result.caar_path(level=level)
    np.testing.assert_allclose(path["caar"], mean, rtol=1e-10)
    np.testing.assert_allclose(path["se"], se, rtol=1e-9)
    np.testing.assert_allclose(path["lower"], mean - crit * se, rtol=1e-9)
    np.testing.assert_allclose(path["upper"], mean + crit * se, rtol=1e-9)
    assert (path["n"] == n).all()


# ---- placebo: admissible pseudo day-0 rows ---------------------------------------------

def placebo_study():
    """SYNTHETIC returns (seeded), two assets with three real events each, two of them close
    together, so pseudo windows touch real ones at both edges."""
    rng = np.random.default_rng(5)
    T = 400
    dates = pd.bdate_range("2018-01-01", periods=T)
    m = rng.normal(0, 0.01, T)
    frame = pd.DataFrame({"MKT": m, "P": 0.9 * m + rng.normal(0, 0.01, T), "Q": 1.2 * m + rng.normal(0, 0.01, T)},
                         index=pd.Index(dates, name="date"))
    day0 = {"P": [200, 240, 330], "Q": [215, 300, 318]}
    events = pd.DataFrame([{"event_id": f"{a}{k}", "asset": a, "date": dates[d]}
                           for a, ds in day0.items() for k, d in enumerate(ds)])
    res = EventStudy.from_returns(frame, events, market="MKT", estimation_window=(-120, -11),
                                  event_window=(-3, 4), **CLEAN).fit()
    return res, day0


def brute_force_allowed(lo, hi, real, est, ev, guard):
    """Rows c of the asset's series [lo, hi) such that the estimation start and event end
    lie inside the series and the pseudo window [c + ev0 - guard, c + ev1 + guard] shares
    no row with any real window [p + ev0, p + ev1]."""
    out = []
    for c in range(lo, hi):
        if c + est[0] < lo or c + ev[1] > hi - 1:
            continue
        pseudo = set(range(c + ev[0] - guard, c + ev[1] + guard + 1))
        if any(pseudo & set(range(p + ev[0], p + ev[1] + 1)) for p in real):
            continue
        out.append(c)
    return out


@pytest.mark.parametrize("guard", [0, 2])
def test_placebo_allowed_positions_exactly_at_the_edges(guard):
    res, day0 = placebo_study()
    est, ev = (-120, -11), (-3, 4)
    rows = res.rows
    allowed = _allowed_positions(res, guard)
    assert len(allowed) == 2
    width = ev[1] - ev[0]
    checked = 0
    for asset, days in day0.items():
        mine = (res.pairs["asset"] == asset).to_numpy()
        lo, hi = int(rows.lo[mine][0]), int(rows.hi[mine][0])
        real = sorted(int(p) for p in rows.pos[mine])
        assert [p - lo for p in real] == days  # from_returns keeps one row per frame date
        got = allowed[lo].tolist()
        assert got == brute_force_allowed(lo, hi, real, est, ev, guard)
        for p in real:
            # touching a real window on either side is excluded, one row further is allowed
            right, left = p + width + guard, p - width - guard
            assert right not in got and left not in got
            if not any(0 < q - p <= 2 * width + 2 * guard + 1 for q in real):  # no real event just after
                assert right + 1 in got
                checked += 1
        first = real[0]
        assert first - width - guard - 1 in got
    assert checked == (6 if guard == 0 else 5)
    # the two close events of Q (300 and 318) leave exactly 18 - 2 (width + guard) - 1 rows between them
    q_lo = int(rows.lo[(res.pairs["asset"] == "Q").to_numpy()][0])
    between = [c - q_lo for c in allowed[q_lo] if 300 < c - q_lo < 318]
    assert between == list(range(300 + width + guard + 1, 318 - width - guard))


# ---- BHAR against prices ---------------------------------------------------------------

def test_bhar_compounds_prices():
    """Buy-and-hold legs from price ratios: prod(1 + R) over a window is P_end / P_before."""
    rng = np.random.default_rng(21)  # SYNTHETIC prices (seeded random walk), not market data
    T = 260
    dates = pd.bdate_range("2022-01-03", periods=T)
    simple = pd.DataFrame({"MKT": rng.normal(3e-4, 0.011, T), "A": rng.normal(5e-4, 0.02, T)}, index=dates)
    simple["A"] += 0.8 * simple["MKT"]
    prices = 100 * (1 + simple).cumprod()
    d0 = 230
    events = pd.DataFrame({"event_id": ["e"], "asset": ["A"], "date": [dates[d0]]})
    kw = dict(estimation_window=(-200, -11), event_window=(-3, 3), **CLEAN)
    est = np.arange(d0 - 200, d0 - 10)
    a, b = -1, 2
    bhr = prices["A"].iloc[d0 + b] / prices["A"].iloc[d0 + a - 1] - 1
    mkt_bhr = prices["MKT"].iloc[d0 + b] / prices["MKT"].iloc[d0 + a - 1] - 1
    win = np.arange(d0 + a, d0 + b + 1)
    for kind, rets in (("simple", simple), ("log", np.log(prices).diff())):
        # market-adjusted: both legs are price ratios
        got = EventStudy.from_returns(rets, events, market="MKT", model="market_adjusted", returns=kind,
                                      **kw).fit().bhar((a, b)).iloc[0]
        assert got["bhr"] == pytest.approx(bhr, abs=1e-12)
        assert got["normal_bhr"] == pytest.approx(mkt_bhr, abs=1e-12)
        assert got["bhar"] == pytest.approx(bhr - mkt_bhr, abs=1e-12)
        # market model: the normal leg compounds alpha + beta R_m (OLS by statsmodels)
        got = EventStudy.from_returns(rets, events, market="MKT", model="market", returns=kind,
                                      **kw).fit().bhar((a, b)).iloc[0]
        fit = sm.OLS(rets["A"].to_numpy()[est], sm.add_constant(rets["MKT"].to_numpy()[est])).fit()
        normal = fit.params[0] + fit.params[1] * rets["MKT"].to_numpy()[win]
        normal_bhr = np.prod(1 + normal) - 1 if kind == "simple" else np.exp(normal.sum()) - 1
        assert got["bhr"] == pytest.approx(bhr, abs=1e-12)
        assert got["normal_bhr"] == pytest.approx(normal_bhr, abs=1e-12)
        assert got["bhar"] == pytest.approx(bhr - normal_bhr, abs=1e-12)


# ---- placebo: p-value and statistic draws ----------------------------------------------

def test_placebo_p_value_counts_ties_on_both_sides():
    """p = min(1, 2 min((1 + #{s_b <= s}) / (B + 1), (1 + #{s_b >= s}) / (B + 1))), B the finite
    draws; percentile #{s_b <= s} / B. Hand example with a tie and a NaN draw per column."""
    draws = np.array([[1.0, -1.0], [2.0, 0.5], [2.0, 0.5], [3.0, 4.0], [np.nan, 9.0]])
    p, pct = _p_two_sided(np.array([2.0, 4.0]), draws)
    # column 0: B = 4, 3 draws <= 2, 3 draws >= 2 -> 2 * 4/5 capped at 1; column 1: B = 5, le 4, ge 2
    np.testing.assert_allclose(p, [1.0, 2 * 3 / 6])
    np.testing.assert_allclose(pct, [3 / 4, 4 / 5])
    p, pct = _p_two_sided(np.array([3.0, -2.0]), draws)
    np.testing.assert_allclose(p, [2 * 2 / 5, 2 * 1 / 6])
    np.testing.assert_allclose(pct, [1.0, 0.0])


def test_placebo_test_statistic_draws_equal_reruns_on_the_drawn_dates(frame, result):
    """statistic="bmp": each draw is the BMP of the same study re-run on the drawn pseudo
    dates, and the reported p-value and percentile follow from the draws by counting."""
    B = 5
    observed, draws, positions = placebo_draws(result, (-1, 1), statistic="bmp", n_draws=B, seed=3)
    assert observed[0] == pytest.approx(result.test("bmp", window=(-1, 1))["statistic"].iloc[0], rel=1e-12)
    dates = result.rows.D
    for b in range(B):
        assert len(set(positions[b] - result.rows.lo)) == 1  # one pseudo-date for the whole event
        pseudo = pd.DataFrame({"event_id": ["p"], "date": [pd.Timestamp(dates[positions[b][0]])]})
        rerun = EventStudy.from_returns(frame, pseudo, market="MKT", estimation_window=EST, event_window=EV,
                                        **CLEAN).fit()
        want = rerun.test("bmp", window=(-1, 1))["statistic"].iloc[0]
        assert draws[b, 0] == pytest.approx(want, rel=1e-9)
    table = placebo_test(result, (-1, 1), statistic="bmp", n_draws=B, seed=3).iloc[0]
    le = sum(1 for d in draws[:, 0] if d <= observed[0])
    ge = sum(1 for d in draws[:, 0] if d >= observed[0])
    assert table["p_value"] == pytest.approx(min(1.0, 2 * min((1 + le) / (B + 1), (1 + ge) / (B + 1))), rel=1e-12)
    assert table["percentile"] == pytest.approx(le / B, rel=1e-12)
    assert table["statistic"] == observed[0] and table["n"] == N_ASSETS
    assert table["n_draws"] == B and table["seed"] == 3 and table["window"] == "[-1,1]"


# ---- GRANK with tied event values, few pairs and two sigma conventions ---------------------

def brute_force_grank(est: np.ndarray, zs: np.ndarray):
    """Kolari & Pynnonen (2011) from the standardised estimation values est (N, L) and the
    re-standardised event values zs (N,): rank each pair's finite values (average ties),
    U = K / (M_i + 1) - 1/2; Ubar_t over the pairs observed on t; S from the T observed
    days weighted N_t / N; Z = Ubar_event / S; t = Z sqrt((T - 2) / (T - 1 - Z^2))."""
    N, L = est.shape
    U = np.full((N, L + 1), np.nan)
    for i in range(N):
        vals = np.append(est[i], zs[i])
        ok = np.isfinite(vals)
        U[i, ok] = stats.rankdata(vals[ok]) / (ok.sum() + 1) - 0.5
    n_t = np.isfinite(U).sum(axis=0)
    ubar = np.array([np.nanmean(U[:, t]) if n_t[t] else 0.0 for t in range(L + 1)])
    T = int((n_t > 0).sum())
    S = np.sqrt(((n_t / N) * ubar**2).sum() / T)
    Z = ubar[-1] / S
    t = Z * np.sqrt((T - 2) / (T - 1 - Z**2))
    return t, 2 * stats.t.sf(abs(t), T - 2)


def toy_inputs():
    """SYNTHETIC battery inputs (hand-picked numbers): 4 pairs, 9 estimation rows (two of
    them missing for pair 2), sigma^2 = 1, three event days: all pairs observed, a single
    pair (undefined), exactly two pairs. Each pair's first residual equals its day-0
    re-standardised event value, so the event value ties with an estimation value."""
    rng = np.random.default_rng(2)
    P, L = 4, 9
    resid = np.round(rng.normal(0, 1, (P, L)), 1)
    resid[2, [3, 6]] = np.nan
    ar = np.array([[0.9, np.nan, 0.4], [-0.3, 0.7, np.nan], [1.4, np.nan, -1.1], [0.2, np.nan, np.nan]])
    zs0 = ar[:, 0] / np.nanstd(ar[:, 0], ddof=1)
    resid[:, 0] = zs0  # ties with the day-0 event values (sigma = 1: est = resid)
    fit = SimpleNamespace(sigma2=np.ones(P))
    inp = BatteryInputs(ar=ar, rel_days=np.array([0, 1, 2]), resid=resid, x_est=np.zeros((P, L, 1)),
                        n_obs=np.isfinite(resid).sum(axis=1).astype(float),
                        df=np.isfinite(resid).sum(axis=1) - 2.0, fit=fit, benchmark=np.zeros((P, 3, 1)))
    return inp, resid, ar


def test_grank_ties_few_pairs_and_sigma_conventions_by_brute_force():
    inp, resid, ar = toy_inputs()
    for sigma in ("ols", "n", "ols"):  # the per-sigma cache must not leak between conventions
        ok = np.isfinite(resid)
        if sigma == "ols":
            s = np.ones(len(resid))
        else:  # denominator L_i, around the pair's own mean
            s = np.array([np.sqrt(((r[o] - r[o].mean()) ** 2).mean()) for r, o in zip(resid, ok)])
        est = resid / s[:, None]
        got = grank(inp, None, sigma=sigma, prediction_error=False)
        for j in range(3):
            z = ar[:, j] / s
            if np.isfinite(z).sum() < 2:
                assert np.isnan(got["statistic"][j]) and np.isnan(got["p_value"][j])
                continue
            zs = z / np.nanstd(z, ddof=1)
            if sigma == "ols" and j == 0:
                assert (est[:, 0] == zs).all()  # the ties are really there
            t, p = brute_force_grank(est, zs)
            assert got["statistic"][j] == pytest.approx(t, rel=1e-12), (sigma, j)
            assert got["p_value"][j] == pytest.approx(p, rel=1e-10), (sigma, j)
        assert list(got["n"]) == [4, 1, 2]


def test_pair_car_test_by_hand(frame, result):
    """Per-pair CAR t (CLM 1997 eq. 4.4.14, df L_i - 2) from statsmodels, with the table's columns."""
    got = pair_car_test(result, (-1, 1))
    assert list(got.columns) == ["event_id", "asset", "window", "car", "t", "p_value", "df"]
    assert (got["window"] == "[-1,1]").all() and list(got["asset"]) == ASSETS
    x = frame["MKT"].to_numpy()
    est = np.arange(DAY0 + EST[0], DAY0 + EST[1] + 1)
    for k, a in enumerate(ASSETS):
        y = frame[a].to_numpy()
        ok = np.isfinite(y[est])
        fit = sm.OLS(y[est][ok], sm.add_constant(x[est][ok])).fit()
        w = np.arange(DAY0 - 1, DAY0 + 2)
        car = (y[w] - fit.params[0] - fit.params[1] * x[w]).sum()
        xe = x[est][ok]
        var = fit.mse_resid * (3 + 9 / len(xe) + (x[w].sum() - 3 * xe.mean()) ** 2 / ((xe - xe.mean()) ** 2).sum())
        t = car / np.sqrt(var)
        row = got.iloc[k]
        assert row["car"] == pytest.approx(car, rel=1e-10)
        assert row["t"] == pytest.approx(t, rel=1e-9)
        assert row["df"] == fit.df_resid
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), fit.df_resid), rel=1e-8)
    # eventstudy-py's convention: a given df for every pair
    alt = pair_car_test(result, (-1, 1), df=50)
    assert (alt["df"] == 50).all()
    np.testing.assert_allclose(alt["p_value"], 2 * stats.t.sf(np.abs(got["t"]), 50), rtol=1e-10)


def test_placebo_weights_by_rerun_and_one_line_errors(frame, result):
    """weights: the statistic is the mean of w_i CAR_i over pairs with w_i != 0, observed and
    per draw (the draws re-run by hand on the drawn dates); bad arguments are one-line errors."""
    w = np.array([1.0, -1.0, 0.0, 2.0, 1.0, 0.5])
    use = w != 0
    observed, draws, positions = placebo_draws(result, (0, 1), n_draws=3, seed=8, weights=w)
    cars = result.car((0, 1))["car"].to_numpy()
    assert observed[0] == pytest.approx((w[use] * cars[use]).mean(), rel=1e-12)
    for b in range(3):
        pseudo = pd.DataFrame({"event_id": ["p"], "date": [pd.Timestamp(result.rows.D[positions[b][0]])]})
        rerun = EventStudy.from_returns(frame, pseudo, market="MKT", estimation_window=EST, event_window=EV,
                                        **CLEAN).fit().car((0, 1)).set_index("asset")["car"]
        rerun = rerun.reindex(ASSETS).to_numpy()  # a pair whose pseudo window misses a day drops out
        assert draws[b, 0] == pytest.approx(np.nanmean(w[use] * rerun[use]), rel=1e-9)
    one = placebo_test(result, (0, 1), n_draws=1, seed=8)  # a single draw is allowed
    assert one["n_draws"].iloc[0] == 1 and one["seed"].iloc[0] == 8
    bad = [
        (dict(n_draws=0), r"^placebo: n_draws must be a positive integer, got 0$"),
        (dict(sigma="n"), r"^placebo: option\(s\) sigma apply to a test statistic, not to statistic='caar'$"),
        (dict(statistic="bmp", weights=w), r"^placebo: weights apply to statistic='caar' only$"),
        (dict(weights=np.zeros(N_ASSETS)), r"^placebo: weights needs one value per pair \(6\), not all zero$"),
        (dict(weights=np.ones(3)), r"^placebo: weights needs one value per pair \(6\), not all zero$"),
        (dict(clusters="asset"), r"^placebo: clusters must be 'event', 'pair' or one label per pair, got 'asset'$"),
        (dict(clusters=["a", "b"]), r"^placebo: clusters needs one label per pair \(6\), got shape \(2,\)$"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ImpactError, match=message):
            placebo_test(result, (0, 1), **{"n_draws": 5, **kwargs})


# ---- Wilcoxon signed rank with zero ARs; significance stars ------------------------------

def test_wilcoxon_drops_zeros_and_ranks_ties_by_hand(frame, result):
    """W+ = sum of the (average) ranks of |x| over positive x, zeros dropped; scipy's two-sided
    p-value. Market-adjusted ARs of A0 are exactly 0 on day 0 and +2 (the per-day loop path);
    the market model's ARs have no zeros (the vectorised path)."""
    for res in (study(frame, model="market_adjusted"), result):
        AR = res.abnormal
        for window in (None, (-1, 1)):
            got = res.test("wilcoxon", window=window)
            cols = [AR[:, k] for k in range(AR.shape[1])] if window is None else [AR[:, 4:7].sum(axis=1)]
            for k, x in enumerate(cols):
                x = np.array([v for v in x if np.isfinite(v) and v != 0])
                mag = np.abs(x)
                ranks = np.array([(mag < v).sum() + ((mag == v).sum() + 1) / 2 for v in mag])  # average ties
                assert got["statistic"].iloc[k] == pytest.approx(ranks[x > 0].sum(), rel=1e-12)
                assert got["p_value"].iloc[k] == pytest.approx(stats.wilcoxon(x).pvalue, rel=1e-12)
                assert got["n"].iloc[k] == len(x)
    zeros = study(frame, model="market_adjusted").test("wilcoxon").set_index("rel_day")
    assert zeros.loc[0, "n"] == N_ASSETS - 1 and zeros.loc[2, "n"] == N_ASSETS - 1 and zeros.loc[1, "n"] == N_ASSETS


def test_significance_stars_thresholds():
    cases = [(0.0099, "***"), (0.01, "**"), (0.0499, "**"), (0.05, "*"), (0.0999, "*"), (0.1, ""), (0.5, ""),
             (np.nan, ""), (np.inf, "")]
    assert [significance_stars(p) for p, _ in cases] == [s for _, s in cases]


# ---- rank and sign tests on sparse days (one pair, or none, observed) ----------------------

def sparse_inputs():
    """SYNTHETIC battery inputs (seeded): 5 pairs, 12 estimation rows; row 4 is missing for
    every pair and row 7 is observed for one pair only; values rounded (ties); 3 event days,
    the last observed by two pairs."""
    rng = np.random.default_rng(9)
    P, L = 5, 12
    resid = np.round(rng.normal(0, 1, (P, L)), 1)
    resid[:, 4] = np.nan
    resid[1:, 7] = np.nan
    ar = np.round(rng.normal(0.3, 1, (P, 3)), 1)
    ar[2:, 2] = np.nan
    fit = SimpleNamespace(sigma2=np.ones(P))
    return BatteryInputs(ar=ar, rel_days=np.array([0, 1, 2]), resid=resid, x_est=np.zeros((P, L, 1)),
                         n_obs=np.isfinite(resid).sum(axis=1).astype(float), df=np.isfinite(resid).sum(axis=1) - 2.0,
                         fit=fit, benchmark=np.zeros((P, 3, 1))), resid, ar


def _per_day_standardised(scores, L, window):
    """Corrado-Zivney: s_t = sum_i score_it / sqrt(N_t) over the pairs observed on t,
    S = sqrt(sum_t s_t^2 / T) over the T days anyone is observed."""
    s = []
    for t in range(scores.shape[1]):
        col = [v for v in scores[:, t] if np.isfinite(v)]
        s.append(sum(col) / np.sqrt(len(col)) if col else np.nan)
    s = np.array(s)
    S = np.sqrt(np.nansum(s**2) / np.isfinite(s).sum())
    return s[L:] / S if window is None else np.array([s[L:].sum() / (np.sqrt(len(s) - L) * S)])


def test_rank_and_sign_tests_on_sparse_days_by_brute_force():
    inp, resid, ar = sparse_inputs()
    N, L = resid.shape
    for window, cols in ((None, [0, 1, 2]), ((0, 1), [0, 1])):
        C = np.concatenate([resid, ar[:, cols]], axis=1)
        ok = np.isfinite(C)
        K = np.full(C.shape, np.nan)
        for i in range(N):
            K[i, ok[i]] = stats.rankdata(C[i, ok[i]])
        M = ok.sum(axis=1)
        # Corrado (1989): dbar_t = mean over observed pairs of K - (M_i + 1)/2
        d = K - (M[:, None] + 1) / 2
        dbar = np.array([np.nanmean(d[:, t]) if ok[:, t].any() else np.nan for t in range(C.shape[1])])
        S = np.sqrt(np.nansum(dbar**2) / ok.any(axis=0).sum())
        want = dbar[L:] / S if window is None else np.array([dbar[L:].sum() / (np.sqrt(len(cols)) * S)])
        np.testing.assert_allclose(corrado_rank(inp, window)["statistic"], want, rtol=1e-12)
        # Corrado & Zivney (1992): modified rank U = K / (M_i + 1) - 1/2 and sign vs the median
        U = K / (M[:, None] + 1) - 0.5
        np.testing.assert_allclose(modified_rank(inp, window)["statistic"], _per_day_standardised(U, L, window),
                                   rtol=1e-12)
        G = np.sign(C - np.array([np.median(C[i, ok[i]]) for i in range(N)])[:, None])
        np.testing.assert_allclose(corrado_sign(inp, window)["statistic"], _per_day_standardised(G, L, window),
                                   rtol=1e-12)
        full = np.isfinite(ar[:, cols]).all(axis=1).sum() if window is not None else None
        for fn in (corrado_rank, modified_rank, corrado_sign):
            n = fn(inp, window)["n"]
            assert list(n) == ([5, 5, 2] if window is None else [full]), fn.__name__
    for fn in (modified_rank, corrado_sign):
        with pytest.raises(ImpactError, match=r"^convention must be 'impact' or 'estudy2', got 'r'$"):
            fn(inp, None, convention="r")
    with pytest.raises(ImpactError,
                       match=r"^convention must be 'impact', 'estudy2' or 'r_eventstudy', got 'r'$"):
        corrado_rank(inp, None, convention="r")
    with pytest.raises(ImpactError, match=r"^p_hat must be 'cowan' or 'pooled', got 'x'$"):
        generalized_sign(inp, None, p_hat="x")
    # generalized sign: Cowan's p over each pair's usable rows, the pooled p over all of them
    p = cowan_p_hat(resid)
    got = generalized_sign(inp, None)
    pos, n = (ar > 0).sum(axis=0), np.isfinite(ar).sum(axis=0)
    np.testing.assert_allclose(got["statistic"], (pos - n * p) / np.sqrt(n * p * (1 - p)), rtol=1e-12)
    pooled = np.nansum(resid > 0) / np.isfinite(resid).sum()
    np.testing.assert_allclose(generalized_sign(inp, None, p_hat="pooled")["p_hat"], pooled, rtol=1e-12)


@pytest.mark.parametrize("n", [20, 50, 51, 400])
def test_wilcoxon_p_equals_scipy_bit_for_bit_with_and_without_ties(n):
    """SYNTHETIC columns: above 50 untied values the signed-rank p comes from the normal
    approximation computed here (no second ranking); it equals scipy.stats.wilcoxon exactly, and so
    does every other case (50 or fewer values: scipy's exact test; ties: scipy with its tie term)."""
    rng = np.random.default_rng(n)
    e = rng.normal(0.1, 1.0, (n, 4))
    tied = np.round(e, 1)
    tied[tied == 0] = 0.05
    inp = SimpleNamespace(factors=lambda window, prediction_error=False: (e, None, None))
    got = wilcoxon(inp, None)
    np.testing.assert_array_equal(got["p_value"], stats.wilcoxon(e, axis=0).pvalue)
    r = np.vstack([stats.rankdata(np.abs(e[:, j])) for j in range(4)])
    np.testing.assert_array_equal(got["statistic"], np.where(e.T > 0, r, 0.0).sum(axis=1))
    inp_tied = SimpleNamespace(factors=lambda window, prediction_error=False: (tied, None, None))
    np.testing.assert_array_equal(wilcoxon(inp_tied, None)["p_value"], stats.wilcoxon(tied, axis=0).pvalue)


def test_wilcoxon_with_ties_that_keep_whole_ranks_goes_to_scipy():
    """SYNTHETIC: 60 values in tie groups of three (each group's average rank is a whole number, so
    only the count of each rank shows the ties): scipy's tie-corrected p, not the untied formula."""
    rng = np.random.default_rng(60)
    e = (np.repeat(np.arange(1.0, 21.0), 3) * rng.choice([-1.0, 1.0], 60))[:, None]
    inp = SimpleNamespace(factors=lambda window, prediction_error=False: (e, None, None))
    got = wilcoxon(inp, None)["p_value"]
    np.testing.assert_array_equal(got, stats.wilcoxon(e, axis=0).pvalue)
    r = stats.rankdata(np.abs(e[:, 0]))
    assert (r == np.round(r)).all()  # whole ranks despite the ties


def test_grank_leaves_out_a_pair_without_a_finite_sigma():
    """A pair whose residual variance is not finite (a pseudo pair whose refit failed, in a placebo
    draw) has no standardised values: it must drop out of GRANK, as in the brute force, not keep
    its residuals' ranks (it did before 2026-12-06). SYNTHETIC toy inputs."""
    inp, resid, ar = toy_inputs()
    inp.fit.sigma2 = np.array([1.0, 1.0, 1.0, np.nan])
    got = grank(inp, None, sigma="ols", prediction_error=False)
    est = resid / np.sqrt(inp.fit.sigma2)[:, None]
    for j in (0, 2):
        z = ar[:, j] / np.sqrt(inp.fit.sigma2)
        t, p = brute_force_grank(est, z / np.nanstd(z, ddof=1))
        assert got["statistic"][j] == pytest.approx(t, rel=1e-12)
        assert got["p_value"][j] == pytest.approx(p, rel=1e-10)
    assert abs(got["statistic"][0] - 0.6398) < 1e-3  # (0.031 when the pair's residual ranks stayed in)
