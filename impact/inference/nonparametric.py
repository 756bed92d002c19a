"""Rank and sign tests of abnormal returns (formulas and papers in docs/methods.md).

Same calling convention as :mod:`impact.tests_parametric`: ``(inputs, window,
**options) -> dict(statistic, p_value, n)``; two-sided p-values.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from ..errors import ImpactError
from ..study.statistics import t_pvalue
from .parametric import _count, _normal_p, standardized


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks within each row (1-based, average ties); NaN cells stay NaN and are not
    counted. One stable argsort per row, ties averaged with running group bounds
    (same numbers as ``scipy.stats.rankdata(..., nan_policy="omit")``, much faster
    on many short rows)."""
    if values.size == 0:
        return values.astype(float)  # pragma: no mutate (astype(None) is float64)
    ok = np.isfinite(values)
    v = np.where(ok, values, np.inf)
    order = np.argsort(v, axis=1)  # pragma: no mutate (axis -1 = 1); tie order is irrelevant: ties share their average rank
    srt = np.sort(v, axis=1)  # pragma: no mutate (axis -1 = 1); the same sequence as v[order], and cheaper than gathering it
    P, T = v.shape
    same = (srt[:, 1:] == srt[:, :-1]) & np.isfinite(srt[:, 1:])
    if same.any():
        j = np.broadcast_to(np.arange(T), (P, T))
        new = np.ones((P, T), dtype=bool)
        new[:, 1:] = ~same
        last = np.ones((P, T), dtype=bool)
        last[:, :-1] = new[:, 1:]
        start = np.maximum.accumulate(np.where(new, j, 0), axis=1)
        end = np.minimum.accumulate(np.where(last, j, T)[:, ::-1], axis=1)[:, ::-1]
        vals = (start + end) / 2.0 + 1.0
    else:
        vals = np.broadcast_to(np.arange(1.0, T + 1.0), (P, T))
    ranks = np.empty((P, T))
    ranks[np.arange(P)[:, None], order] = vals
    ranks[~ok] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
    return ranks


def _estimation_ranks(inp) -> np.ndarray:
    """Ranks of each pair's estimation residuals among themselves (cached; GRANK's
    residuals / sigma_i have the same ranks)."""
    if "est_ranks" not in inp.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
        inp.memo["est_ranks"] = _ranks(inp.resid)
    return inp.memo["est_ranks"]


def _combined_rank_columns(inp, ev: np.ndarray):
    """Ranks of each pair's estimation residuals and event values ``ev`` (P, m) ranked
    together, summarised by column without sorting again: the cached estimation
    ranks shift by the number of event values below (half for ties), and an event
    value's rank is #estimation values below (+ half the ties) + its rank among
    the event values. Returns (column sums of K over observed pairs (L + m,),
    observed pairs per column n_t, sum of the centres (M_i + 1)/2 of the observed
    pairs per column, K of the event values (P, m), M (P,))."""
    est = inp.resid
    base = _estimation_ranks(inp)
    ok = np.isfinite(est)
    L_i = ok.sum(axis=1)
    have = np.isfinite(ev)
    M = L_i + have.sum(axis=1)
    centre = (M + 1) / 2.0
    col_K = np.where(ok, base, 0.0).sum(axis=0)
    K_ev = _ranks(ev)
    for w in range(ev.shape[1]):
        e = ev[:, w, None]
        with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            lt, gt = est < e, est > e
        n_lt, n_gt = np.count_nonzero(lt, axis=1), np.count_nonzero(gt, axis=1)
        n_eq = np.where(have[:, w], L_i - n_lt - n_gt, 0)
        K_ev[:, w] += n_lt + 0.5 * n_eq
        col_K += np.count_nonzero(gt, axis=0)
        if n_eq.any():
            col_K += 0.5 * np.count_nonzero(ok & ~lt & ~gt & have[:, w, None], axis=0)
    n_est = ok.sum(axis=0)
    cen_est = np.full(est.shape[1], centre.sum()) if ok.all() else centre @ ok
    col_K = np.concatenate([col_K, np.where(have, K_ev, 0.0).sum(axis=0)])
    n_t = np.concatenate([n_est, have.sum(axis=0)])
    cen = np.concatenate([cen_est, centre @ have])
    return col_K, n_t, cen, K_ev, M


def corrado_rank(inp, window, *, convention: str = "impact"):
    """Corrado (1989) rank test (window: Cowan 1992's multi-day form).

    Each pair's estimation residuals and event-window ARs (all event days for
    ``window=None``; the window's days otherwise) are ranked together, K_it;
    deviations d_it = K_it - (M_i + 1)/2 (M_i the pair's ranked days) are
    averaged over the pairs observed on the day, dbar_t, and S = sqrt(sum_t
    dbar_t^2 / T) over the T ranked days. Day t: dbar_t / S; window of D days:
    sum_{t in window} dbar_t / (sqrt(D) S). N(0, 1).

    ``convention="estudy2"`` reproduces estudy2 0.10.0 when pairs have missing
    days: dbar_t = N sum_i d_it / N_t^2 (rowMeans x ncol / N_t), T = mean_i M_i,
    and for windows the per-day mean rank centred on mean_i (M_i + 1)/2. All
    conventions agree on complete data. ``convention="r_eventstudy"``: R EventStudy's
    scale, U_it = K_it / (M_i + 1) - 1/2, Ubar_t their mean over the pairs observed on
    day t, S the *sample* sd (n - 1, centred on its own mean) of Ubar_t over every
    ranked day (:func:`_r_eventstudy_rank`).

    Components: ``mean_rank`` (the centred mean rank of the day, or its mean over the
    window's days) and ``rank_sd`` (S): statistic = sqrt(D) mean_rank / rank_sd.
    """
    if convention not in ("impact", "estudy2", "r_eventstudy"):
        raise ImpactError(f"convention must be 'impact', 'estudy2' or 'r_eventstudy', got {convention!r}")
    if convention == "r_eventstudy":
        return _r_eventstudy_rank(inp, window)
    cols = slice(None) if window is None else (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])
    ev = inp.ar[:, cols]
    col_K, n_t, cen, K_ev, M = _combined_rank_columns(inp, ev)
    N = len(ev)
    L = inp.resid.shape[1]
    n = _count(ev)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        if convention == "impact":
            dbar = np.where(n_t > 0, (col_K - cen) / np.maximum(n_t, 1), np.nan)
            T = (n_t > 0).sum()
            S = np.sqrt(np.nansum(dbar**2) / T) if T else np.nan
            if window is None:
                mean_rank = dbar[L:]
                stat = mean_rank / S
            else:
                mean_rank = np.array([dbar[L:].mean()])
                stat = np.array([dbar[L:].sum() / (np.sqrt(ev.shape[1]) * S)])
        else:
            T = M.mean() if N else np.nan
            if window is None:
                dbar = np.where(n_t > 0, (col_K - cen) * N / np.maximum(n_t, 1) ** 2, np.nan)
                S = np.sqrt(np.nansum(dbar**2) / T)
                mean_rank = dbar[L:]
                stat = mean_rank / S
            else:
                centre = ((M + 1) / 2.0).mean()
                day_mean = np.where(n_t > 0, col_K / np.maximum(n_t, 1), np.nan)
                S = np.sqrt(np.nansum((day_mean - centre) ** 2) / T)
                mean_rank = np.array([np.nanmean(K_ev) - centre])
                stat = np.sqrt(ev.shape[1]) * mean_rank / S
    if window is not None:
        n = np.array([np.isfinite(ev).all(axis=1).sum()])
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n, "mean_rank": mean_rank,
            "rank_sd": np.full(len(stat), S)}


def _r_eventstudy_rank(inp, window):
    """R EventStudy's rank statistic (sipemu/eventstudy ``RankTest``): each pair's estimation
    residuals and event-window ARs ranked together (average ties), U_it = K_it / (M_i + 1) - 1/2,
    Ubar_t = mean_i U_it over the pairs observed on day t, S = sd_{T-1}(Ubar_t) over the T
    ranked days (estimation and event); day t: Ubar_t / S. A window of D days (not in R):
    sum_{t in window} Ubar_t / (sqrt(D) S), from the same ranking. N(0, 1)."""
    L = inp.resid.shape[1]
    combined = np.concatenate([inp.resid, inp.ar], axis=1)
    U = _ranks(combined) / (np.isfinite(combined).sum(axis=1)[:, None] + 1) - 0.5
    ok = np.isfinite(U)
    cnt = ok.sum(axis=0)
    ubar = np.where(cnt > 0, np.where(ok, U, 0.0).sum(axis=0) / np.maximum(cnt, 1), np.nan)
    S = np.nanstd(ubar, ddof=1)
    ev = ubar[L:]
    n = _count(inp.ar)
    if window is None:
        mean_rank = ev
    else:
        days = (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])
        mean_rank = np.array([ev[days].mean()])
        n = np.array([np.isfinite(inp.ar[:, days]).all(axis=1).sum()])
    stat = np.sqrt(1 if window is None else days.sum()) * mean_rank / S
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n, "mean_rank": mean_rank,
            "rank_sd": np.full(len(stat), S)}


def grank(inp, window, *, sigma: str = "ols", prediction_error: bool = True, pe_rows: str = "pair"):
    """Generalised rank test GRANK-T (Kolari & Pynnönen 2011).

    Estimation days: SAR = residual / sigma_i. Event observation: the
    standardised AR (per day) or CAR (window), re-standardised by its
    cross-sectional sd (n-1) to absorb event-induced volatility. Within each pair
    the L_i + 1 values are ranked, U = K / (M_i + 1) - 1/2; Ubar_t is the mean over
    pairs, S = sqrt(sum_t (N_t/N) Ubar_t^2 / T) over the T = L + 1 days,
    Z = Ubar_event / S and t = Z sqrt((T - 2) / (T - 1 - Z^2)) ~ t(T - 2).
    Components: ``mean_rank`` (Ubar_event) and ``rank_sd`` (S), Z = mean_rank / rank_sd.
    """
    z = standardized(inp, window, sigma, prediction_error, pe_rows)
    key = ("grank_base", sigma)  # pragma: no mutate (cache key: a renamed key only misses the cache)
    if key not in inp.memo:
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            est = inp.resid / np.sqrt(inp.sigma2(sigma))[:, None]
        inp.memo[key] = (est, _estimation_ranks(inp))  # same order as the residuals (sigma_i > 0)
    est, base = inp.memo[key]
    ok_est = np.isfinite(est)
    L_i = ok_est.sum(axis=1)
    N, L = est.shape
    n_est = ok_est.sum(axis=0)                 # pairs observed on each estimation day
    stat = np.full(z.shape[1], np.nan)
    pval = np.full(z.shape[1], np.nan)
    mean_rank = np.full(z.shape[1], np.nan)
    rank_sd = np.full(z.shape[1], np.nan)
    n_out = _count(z)
    memo_w: dict = {}
    for j in range(z.shape[1]):
        zj = z[:, j]
        have = np.isfinite(zj)
        if have.sum() < 2:
            continue
        zs = np.where(have, zj / np.nanstd(zj, ddof=1), np.nan)
        M = L_i + have
        w = 1.0 / (M + 1)
        # Adding the event value to a pair's ranking moves every larger estimation value
        # up by one (half for ties): K = base + [est > z] + [est == z]/2.
        gt = est > zs[:, None]
        eq = est == zs[:, None]
        ties = bool(eq.any())
        n_gt = np.count_nonzero(gt, axis=1)
        K_ev = (L_i - n_gt - (eq.sum(axis=1) if ties else 0)) + 1 + (eq.sum(axis=1) / 2.0 if ties else 0)
        # Ubar over estimation days: mean_i (K_i,tau / (M_i + 1) - 1/2)
        wkey = have.tobytes()
        # no mutate below: cache key: a renamed key only misses the cache
        if memo_w.get("key") != wkey:  # pragma: no mutate; the same pairs have an event value on most days
            # no mutate below: cache key: a miss only recomputes base
            memo_w.update(key=wkey, base=np.nansum(base * w[:, None], axis=0))  # pragma: no mutate
        # sum_i w_i [est_i,tau > z_i]: a plain count when every pair has the same weight
        # no mutate below: fast path: equal weights, N >= 2
        above = np.count_nonzero(gt, axis=0) * w[0] if (w == w[0]).all() else w @ gt  # pragma: no mutate
        num = memo_w["base"] + above + (0.5 * (w @ eq) if ties else 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            ubar_est = np.where(n_est > 0, num / np.maximum(n_est, 1) - 0.5, 0.0)
        U_ev = np.where(have, K_ev * w - 0.5, np.nan)
        ubar_ev = np.nanmean(U_ev)
        n_t = np.append(n_est, have.sum())
        ubar = np.append(ubar_est, ubar_ev)
        T = int((n_t > 0).sum())
        S = np.sqrt(((n_t / N) * ubar**2).sum() / T)
        Z = ubar_ev / S
        with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            t = Z * np.sqrt((T - 2) / (T - 1 - Z**2))
        stat[j] = t
        pval[j] = t_pvalue(t, T - 2)
        mean_rank[j], rank_sd[j] = ubar_ev, S
    return {"statistic": stat, "p_value": pval, "n": n_out, "mean_rank": mean_rank, "rank_sd": rank_sd}


def sign(inp, window):
    """Sign test: (N+ - N/2) / sqrt(N/4), N+ = #observations > 0; N(0, 1). Components
    ``n_pos`` (N+) and ``n_neg`` (N - N+: zeros count as not positive)."""
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, _ = inp.factors(window, prediction_error=False)  # pragma: no mutate
    n = _count(e)
    pos = (e > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        stat = (pos - 0.5 * n) / np.sqrt(0.25 * n)
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n, "n_pos": pos, "n_neg": n - pos}


def generalized_sign(inp, window, *, p_hat: str = "cowan"):
    """Generalised sign test (Cowan 1992): (N+ - N p) / sqrt(N p (1 - p)), N(0, 1).

    p is the share of positive estimation residuals: ``"cowan"`` the mean of the
    pairs' shares (Cowan 1992), ``"pooled"`` all pairs' days together (estudy2).
    Components ``p_hat``, ``n_pos`` (N+) and ``n_neg`` (N - N+).
    """
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, _ = inp.factors(window, prediction_error=False)  # pragma: no mutate
    ok = np.isfinite(inp.resid)
    pos_est = (inp.resid > 0).sum(axis=1)
    cnt = ok.sum(axis=1)
    if p_hat == "cowan":
        p = float(np.mean(pos_est[cnt > 0] / cnt[cnt > 0])) if (cnt > 0).any() else np.nan
    elif p_hat == "pooled":
        p = pos_est.sum() / cnt.sum() if cnt.sum() else np.nan
    else:
        raise ImpactError(f"p_hat must be 'cowan' or 'pooled', got {p_hat!r}")
    n = _count(e)
    pos = (e > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        stat = (pos - n * p) / np.sqrt(n * p * (1 - p))
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n, "p_hat": np.full(len(n), p), "n_pos": pos,
            "n_neg": n - pos}


def wilcoxon(inp, window):
    """Wilcoxon (1945) signed-rank test: statistic W+ = sum of the ranks of |x| over
    positive x (zeros dropped, average ties), as estudy2 reports it; two-sided
    p-value from scipy.stats.wilcoxon (exact for small samples without ties,
    normal approximation otherwise). n counts the non-zero observations."""
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, _ = inp.factors(window, prediction_error=False)  # pragma: no mutate
    if len(e) and np.isfinite(e).all() and (e != 0).all():
        # the usual case: every column complete and non-zero -> one vectorised call
        r = _ranks(np.abs(e).T)
        stat = np.where(e.T > 0, r, 0.0).sum(axis=1)
        # no mutate below: no zeros here; scipy defaults
        pval = np.atleast_1d(stats.wilcoxon(e, zero_method="wilcox", axis=0).pvalue)  # pragma: no mutate
        return {"statistic": stat, "p_value": pval, "n": np.full(e.shape[1], len(e))}
    stat = np.full(e.shape[1], np.nan)
    pval = np.full(e.shape[1], np.nan)
    n = np.zeros(e.shape[1], dtype=int)
    for j in range(e.shape[1]):
        x = e[:, j]
        x = x[np.isfinite(x) & (x != 0)]
        n[j] = len(x)
        if not len(x):
            continue
        r = stats.rankdata(np.abs(x))
        stat[j] = r[x > 0].sum()
        pval[j] = stats.wilcoxon(x, zero_method="wilcox").pvalue  # pragma: no mutate (zeros dropped above; scipy default)
    return {"statistic": stat, "p_value": pval, "n": n}


def _event_cols(inp, window):
    return slice(None) if window is None else (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])


def _cz_statistic(scores, L, window, n_ev, convention):
    """Corrado & Zivney (1992) standardisation shared by their sign and modified rank
    tests: s_t = sum_i score_it / sqrt(N_t), S = sqrt(sum_t s_t^2 / T) over all ranked
    days; day t: s_t / S; window of D days: sum_t s_t / (sqrt(D) S).

    ``convention="estudy2"``: s_t = N sum_i score_it / N_t^1.5 (its rowMeans x ncol) and
    T = mean_i M_i; identical on complete data.
    """
    ok = np.isfinite(scores)
    n_t = ok.sum(axis=0)
    N = len(scores)
    tot = np.where(ok, scores, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        if convention == "estudy2":
            s_t = np.where(n_t > 0, tot * N / np.maximum(n_t, 1) ** 1.5, np.nan)
            T = ok.sum(axis=1).mean()
        else:
            s_t = np.where(n_t > 0, tot / np.sqrt(np.maximum(n_t, 1)), np.nan)
            T = (n_t > 0).sum()
        S = np.sqrt(np.nansum(s_t**2) / T)
        ev = s_t[L:]
        stat = ev / S if window is None else np.array([ev.sum() / (np.sqrt(len(ev)) * S)])
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n_ev}


def _check_convention(convention):
    if convention not in ("impact", "estudy2"):
        raise ImpactError(f"convention must be 'impact' or 'estudy2', got {convention!r}")


def corrado_sign(inp, window, *, convention: str = "impact"):
    """Corrado & Zivney (1992) sign test: G_it = sign(AR_it - median_i), the median of
    the pair's estimation residuals and event-window ARs together; standardised as in
    :func:`_cz_statistic`. N(0, 1)."""
    _check_convention(convention)
    ev = inp.ar[:, _event_cols(inp, window)]
    combined = np.concatenate([inp.resid, ev], axis=1)
    with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        med = np.nanmedian(combined, axis=1) if len(combined) else np.zeros(0)
        G = np.sign(combined - med[:, None])
    n = _count(ev) if window is None else np.array([np.isfinite(ev).all(axis=1).sum()])
    return _cz_statistic(G, inp.resid.shape[1], window, n, convention)


def modified_rank(inp, window, *, convention: str = "impact"):
    """Corrado & Zivney (1992) modified rank test: U_it = K_it / (M_i + 1) - 1/2 with K_it
    the rank among the pair's M_i estimation and event-window days (robust to missing
    days); standardised as in :func:`_cz_statistic`. N(0, 1)."""
    _check_convention(convention)
    ev = inp.ar[:, _event_cols(inp, window)]
    combined = np.concatenate([inp.resid, ev], axis=1)
    K = _ranks(combined)
    M = np.isfinite(combined).sum(axis=1)
    U = K / (M[:, None] + 1) - 0.5
    n = _count(ev) if window is None else np.array([np.isfinite(ev).all(axis=1).sum()])
    return _cz_statistic(U, inp.resid.shape[1], window, n, convention)


NONPARAMETRIC: dict[str, Callable[..., dict]] = {
    "corrado_rank": corrado_rank,
    "grank": grank,
    "sign": sign,
    "generalized_sign": generalized_sign,
    "wilcoxon": wilcoxon,
    "corrado_sign": corrado_sign,
    "modified_rank": modified_rank,
}
