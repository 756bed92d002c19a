"""Rank and sign tests on sparse days by brute force (issue 11, mutation testing:
benchmarks/MUTATION.md): the estudy2 conventions of the Corrado rank test and of
the Corrado–Zivney standardisation (day and window forms) on estimation rows seen
by no pair or by one pair, an event day seen by no pair, GRANK on such rows, the
generalised sign test's Cowan p̂ with pairs of 0 and 1 usable rows, and Wilcoxon's
per-column path (an all-zero day first, a missing value, integer counts).

All data in this file is SYNTHETIC (seeded random numbers, rounded to make ties),
labelled as such.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from impact.inference.inputs import BatteryInputs
from impact.inference.nonparametric import corrado_rank, corrado_sign, generalized_sign, grank, modified_rank, wilcoxon
from tests.test_independent import brute_force_grank  # Kolari & Pynnönen (2011) by brute force


def sparse(seed=9, P=5, L=12):
    """SYNTHETIC inputs: estimation row 4 missing for every pair, row 7 seen by pair 0
    only, pair 3 misses rows 0-2; four event days: all pairs, all pairs, two pairs, none."""
    rng = np.random.default_rng(seed)
    resid = np.round(rng.normal(0, 1, (P, L)), 1)
    resid[:, 4] = np.nan
    resid[1:, 7] = np.nan
    resid[3, :3] = np.nan
    ar = np.round(rng.normal(0.3, 1, (P, 4)), 1)
    ar[2:, 2] = np.nan
    ar[:, 3] = np.nan
    return toy(resid, ar), resid, ar


def toy(resid, ar):
    P, W = ar.shape
    return BatteryInputs(ar=ar, rel_days=np.arange(W), resid=resid, x_est=np.zeros((P, resid.shape[1], 1)),
                         n_obs=np.isfinite(resid).sum(axis=1).astype(float), df=np.isfinite(resid).sum(axis=1) - 2.0,
                         fit=SimpleNamespace(sigma2=np.ones(P)), benchmark=np.zeros((P, W, 1)))


def combined(resid, ar, cols):
    C = np.concatenate([resid, ar[:, cols]], axis=1)
    ok = np.isfinite(C)
    K = np.full(C.shape, np.nan)
    for i in range(len(C)):
        K[i, ok[i]] = stats.rankdata(C[i, ok[i]])
    return C, ok, K, ok.sum(axis=1)


WINDOWS = ((None, [0, 1, 2, 3]), ((0, 1), [0, 1]), ((1, 3), [1, 2, 3]))


@pytest.mark.parametrize("window,cols", WINDOWS)
def test_corrado_rank_both_conventions_on_sparse_days_by_brute_force(window, cols):
    inp, resid, ar = sparse()
    N, L = resid.shape
    C, ok, K, M = combined(resid, ar, cols)
    d = K - (M[:, None] + 1) / 2
    n_t = ok.sum(axis=0)
    assert n_t[4] == 0 and n_t[7] == 1
    # impact: dbar_t the mean over the pairs seen on t, S over the T days anyone is seen
    dbar = np.array([np.nanmean(d[:, t]) if n_t[t] else np.nan for t in range(C.shape[1])])
    S = np.sqrt(np.nansum(dbar**2) / (n_t > 0).sum())
    want = dbar[L:] / S if window is None else np.array([np.nansum(dbar[L:]) / (np.sqrt(len(cols)) * S)])
    if window is not None and n_t[L:].min() == 0:
        want = np.array([np.nan])  # a window day seen by nobody: the sum is undefined
    got = corrado_rank(inp, window)
    np.testing.assert_allclose(got["statistic"], want, rtol=1e-12)
    # estudy2: dbar_t = N sum_i d_it / N_t^2, T = mean_i M_i; windows: the per-day mean rank
    T = M.mean()
    if window is None:
        dbar2 = np.array([N * np.nansum(d[:, t]) / n_t[t] ** 2 if n_t[t] else np.nan for t in range(C.shape[1])])
        want2 = dbar2[L:] / np.sqrt(np.nansum(dbar2**2) / T)
    else:
        centre = ((M + 1) / 2).mean()
        day_mean = np.array([np.nanmean(K[:, t]) if n_t[t] else np.nan for t in range(C.shape[1])])
        S2 = np.sqrt(np.nansum((day_mean - centre) ** 2) / T)
        want2 = np.array([np.sqrt(len(cols)) * (np.nanmean(K[:, L:]) - centre) / S2])
    got2 = corrado_rank(inp, window, convention="estudy2")
    assert got2["statistic"].dtype == float
    np.testing.assert_allclose(got2["statistic"], want2, rtol=1e-12)
    np.testing.assert_allclose(got2["p_value"], 2 * stats.norm.sf(np.abs(want2)), rtol=1e-12)
    if window is None:
        assert np.isnan(got["statistic"][3]) and np.isnan(got2["statistic"][3])


def cz(scores, L, window, convention):
    ok = np.isfinite(scores)
    n_t = ok.sum(axis=0)
    N = len(scores)
    tot = np.where(ok, scores, 0.0).sum(axis=0)
    if convention == "estudy2":
        s = np.array([tot[t] * N / n_t[t] ** 1.5 if n_t[t] else np.nan for t in range(scores.shape[1])])
        T = ok.sum(axis=1).mean()
    else:
        s = np.array([tot[t] / np.sqrt(n_t[t]) if n_t[t] else np.nan for t in range(scores.shape[1])])
        T = (n_t > 0).sum()
    S = np.sqrt(np.nansum(s**2) / T)
    return s[L:] / S if window is None else np.array([s[L:].sum() / (np.sqrt(len(s) - L) * S)])


@pytest.mark.parametrize("convention", ["impact", "estudy2"])
@pytest.mark.parametrize("window,cols", WINDOWS)
def test_corrado_zivney_standardisation_on_sparse_days_by_brute_force(window, cols, convention):
    inp, resid, ar = sparse()
    N, L = resid.shape
    C, ok, K, M = combined(resid, ar, cols)
    U = K / (M[:, None] + 1) - 0.5
    got = modified_rank(inp, window, convention=convention)["statistic"]
    assert got.dtype == float
    np.testing.assert_allclose(got, cz(U, L, window, convention), rtol=1e-12)
    G = np.sign(C - np.array([np.median(C[i, ok[i]]) for i in range(N)])[:, None])
    np.testing.assert_allclose(corrado_sign(inp, window, convention=convention)["statistic"],
                               cz(G, L, window, convention), rtol=1e-12)


def test_grank_with_estimation_rows_seen_by_no_pair_and_by_one_pair():
    inp, resid, ar = sparse()
    got = grank(inp, None, prediction_error=False)
    for j in range(ar.shape[1]):
        z = ar[:, j]
        if np.isfinite(z).sum() < 2:
            assert np.isnan(got["statistic"][j]) and np.isnan(got["p_value"][j])
            continue
        t, p = brute_force_grank(resid, z / np.nanstd(z, ddof=1))
        assert got["statistic"][j] == pytest.approx(t, rel=1e-12), j
        assert got["p_value"][j] == pytest.approx(p, rel=1e-10), j
    assert list(got["n"]) == [5, 5, 2, 0]


def test_generalized_sign_cowan_p_hat_with_pairs_of_zero_and_one_usable_rows():
    inp, resid, ar = sparse()
    resid = resid.copy()
    resid[1] = np.nan                 # no usable row: left out of Cowan's mean
    resid[2, 1:] = np.nan             # one usable row (positive or not, it counts)
    inp = toy(resid, ar)
    cnt = np.isfinite(resid).sum(axis=1)
    assert list(cnt[:3]) == [cnt[0], 0, 1]
    use = cnt > 0
    p = np.mean((resid[use] > 0).sum(axis=1) / cnt[use])
    got = generalized_sign(inp, None)
    pos, n = (ar[:, :3] > 0).sum(axis=0), np.isfinite(ar[:, :3]).sum(axis=0)
    np.testing.assert_allclose(got["p_hat"], p, rtol=1e-12)
    np.testing.assert_allclose(got["statistic"][:3], (pos - n * p) / np.sqrt(n * p * (1 - p)), rtol=1e-12)
    # every pair with at most one usable row: p from those single rows
    one = np.full_like(resid, np.nan)
    one[:, 5] = resid[:, 5] if np.isfinite(resid[:, 5]).all() else 0.5
    one[1, 5] = np.nan
    got1 = generalized_sign(toy(one, ar), None)
    keep = np.isfinite(one).sum(axis=1) > 0
    assert got1["p_hat"][0] == pytest.approx(np.mean(one[keep, 5] > 0), rel=1e-12)


def test_wilcoxon_per_column_path_by_hand():
    rng = np.random.default_rng(4)
    P = 6
    ar = np.round(rng.normal(0.2, 1, (P, 3)), 2)
    ar[:, 0] = 0.0                    # a day with only zeros comes first
    ar[2, 1] = np.nan                 # a missing value forces the per-column path
    ar[4, 2] = 0.0                    # a zero to drop
    inp = toy(np.round(rng.normal(0, 1, (P, 10)), 1), ar)
    got = wilcoxon(inp, None)
    assert got["n"].dtype.kind == "i" and list(got["n"]) == [0, 5, 5]
    assert got["statistic"].dtype == float and got["p_value"].dtype == float
    assert np.isnan(got["statistic"][0]) and np.isnan(got["p_value"][0])
    for j in (1, 2):
        x = ar[:, j]
        x = x[np.isfinite(x) & (x != 0)]
        r = stats.rankdata(np.abs(x))
        assert got["statistic"][j] == pytest.approx(r[x > 0].sum(), rel=1e-12)
        assert got["p_value"][j] == pytest.approx(stats.wilcoxon(x).pvalue, rel=1e-12)
    fast = wilcoxon(toy(inp.resid, ar[[0, 1, 3, 4, 5], 1:2]), None)  # complete and non-zero: one call
    assert fast["n"].dtype.kind == "i" and list(fast["n"]) == [5]
    assert fast["statistic"][0] == pytest.approx(got["statistic"][1], rel=1e-12)


def test_single_observation_and_no_pairs():
    """One pair, one positive CAR: W+ is the rank 1 (the vectorised path ranks a single
    value too); no pairs at all: the sign tests are NaN with n = 0."""
    one = toy(np.round(np.random.default_rng(1).normal(0, 1, (1, 8)), 1), np.array([[0.7, -0.2]]))
    got = wilcoxon(one, (0, 0))
    assert list(got["statistic"]) == [1.0] and list(got["n"]) == [1]
    empty = toy(np.zeros((0, 8)), np.zeros((0, 2)))
    for convention in ("impact", "estudy2"):
        if convention == "estudy2":  # T = mean of no pairs' counts: numpy warns, the statistic is NaN
            with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
                out = corrado_sign(empty, None, convention=convention)
        else:
            out = corrado_sign(empty, None, convention=convention)
        assert out["statistic"].shape == (2,) and np.isnan(out["statistic"]).all() and list(out["n"]) == [0, 0]


def test_grank_passes_pe_rows_through():
    """SYNTHETIC (seeded) market-model study: GRANK with the estudy2 prediction-error rows equals
    the brute force on the standardised CARs of those rows, and differs from the default."""
    import pandas as pd

    from impact import EventStudy
    from impact.inference.inputs import inputs
    from impact.inference.parametric import standardized

    rng = np.random.default_rng(56)  # a seed where the two pe_rows conventions rank differently
    T, day0 = 200, 150
    m = rng.normal(0, 0.01, T)
    cols = {"MKT": m, **{f"A{i}": (0.5 + 0.3 * i) * m + rng.normal(0, 0.01, T) for i in range(4)}}
    f = pd.DataFrame(cols, index=pd.Index(pd.bdate_range("2021-01-01", periods=T), name="date"))
    f.iloc[day0 - 70:day0 - 40, 1] = np.nan  # A0: half its estimation rows missing (the conventions differ)
    f.iloc[day0 - 1:day0 + 2, 1:] += 0.02
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[day0]]})
    res = EventStudy.from_returns(f, events, market="MKT", model="market", estimation_window=(-70, -11),
                                  event_window=(-2, 2), contamination="ignore", roll_days=None).fit()
    inp = inputs(res)
    est = inp.resid / np.sqrt(np.asarray(inp.fit.sigma2))[:, None]
    for pe_rows in ("benchmark", "pair"):
        z = standardized(inp, (-1, 1), "ols", True, pe_rows)[:, 0]
        t, p = brute_force_grank(est, z / np.std(z, ddof=1))
        got = grank(inp, (-1, 1), pe_rows=pe_rows)
        assert got["statistic"][0] == pytest.approx(t, rel=1e-10), pe_rows
        assert got["p_value"][0] == pytest.approx(p, rel=1e-9), pe_rows
    assert grank(inp, (-1, 1), pe_rows="benchmark")["statistic"][0] != grank(inp, (-1, 1))["statistic"][0]
