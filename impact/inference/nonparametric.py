"""Rank and sign tests of abnormal returns (formulas and papers in docs/methods.md).

Same calling convention as :mod:`impact.tests_parametric`: ``(inputs, window,
**options) -> dict(statistic, p_value, n)``; two-sided p-values.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special, stats

from ..errors import ImpactError
from ..parallel import ordered_map
from ..study.statistics import t_pvalue
from .inputs import _ranks
from .parametric import _count, _normal_p, standardized
from .rank_passes import event_column_counts, grank_pass


def _combined_rank_columns(inp, cols):
    """Ranks of each pair's estimation residuals and its event values ``inp.ar[:, cols]`` (P, m)
    ranked together, summarised by column without sorting again: the estimation ranks
    (:meth:`BatteryInputs.summary`) shift by the number of event values below (half for
    ties), and an event value's rank is #estimation values below (+ half the ties) + its
    rank among the event values. The counts are kept per event column
    (:func:`event_column_counts`), so a window's columns cost no new pass.
    Returns (column sums of K over observed pairs (L + m,), observed pairs per column
    n_t, sum of the centres (M_i + 1)/2 of the observed pairs per column, M (P,))."""
    s = inp.summary()
    ev = inp.ar[:, cols]
    sel = np.arange(inp.ar.shape[1])[cols]
    counts = event_column_counts(inp, sel)
    have = np.isfinite(ev)
    M = s.n + have.sum(axis=1)
    centre = (M + 1) / 2.0
    # exact half-integer sums, so the order of the additions does not matter
    col_K = s.rank + sum(counts[w][0] + 0.5 * counts[w][1] for w in sel)
    h_ok = sum(s.n_row - counts[w][3] for w in sel) if len(sel) else np.zeros(inp.n_rows)
    cen_est = 0.5 * (s.centre + h_ok)  # sum_i (M_i + 1)/2 over the pairs observed on each row
    below = np.array([counts[w][2] for w in sel], dtype=float)
    col_K = np.concatenate([col_K, np.where(have, _ranks(ev), 0.0).sum(axis=0) + below])
    n_t = np.concatenate([s.n_row, have.sum(axis=0)])
    cen = np.concatenate([cen_est, centre @ have])
    return col_K, n_t, cen, M


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
    col_K, n_t, cen, M = _combined_rank_columns(inp, cols)
    N = len(ev)
    L = inp.n_rows
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
                mean_rank = np.array([col_K[L:].sum() / n_t[L:].sum() - centre])  # mean K of the event values
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
    L = inp.n_rows
    cnt, tot = np.zeros(L + inp.ar.shape[1]), np.zeros(L + inp.ar.shape[1])
    for sl, resid, _ in inp.blocks():
        combined = np.concatenate([resid, inp.ar[sl]], axis=1)
        U = _ranks(combined) / (np.isfinite(combined).sum(axis=1)[:, None] + 1) - 0.5
        ok = np.isfinite(U)
        cnt += ok.sum(axis=0)
        tot += np.where(ok, U, 0.0).sum(axis=0)
    ubar = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
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
    N, J = z.shape
    have = np.isfinite(z)
    live = have.sum(axis=0) >= 2
    zs = np.full(z.shape, np.nan)
    for j in np.flatnonzero(live):  # re-standardised by the cross-sectional sd (n-1) of the day
        zs[:, j] = np.where(have[:, j], z[:, j] / np.nanstd(z[:, j], ddof=1), np.nan)
    num, n_est, K_ev, L_i = grank_pass(inp, zs, np.sqrt(inp.sigma2(sigma)))
    stat = np.full(J, np.nan)
    pval = np.full(J, np.nan)
    mean_rank = np.full(J, np.nan)
    rank_sd = np.full(J, np.nan)
    for j in np.flatnonzero(live):
        w = 1.0 / (L_i + have[:, j] + 1)
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            ubar_est = np.where(n_est > 0, num[j] / np.maximum(n_est, 1) - 0.5, 0.0)
        U_ev = np.where(have[:, j], K_ev[:, j] * w - 0.5, np.nan)
        ubar_ev = np.nanmean(U_ev)
        n_t = np.append(n_est, have[:, j].sum())
        ubar = np.append(ubar_est, ubar_ev)
        T = int((n_t > 0).sum())
        S = np.sqrt(((n_t / N) * ubar**2).sum() / T)
        Z = ubar_ev / S
        with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            t = Z * np.sqrt((T - 2) / (T - 1 - Z**2))
        stat[j] = t
        pval[j] = t_pvalue(t, T - 2)
        mean_rank[j], rank_sd[j] = ubar_ev, S
    return {"statistic": stat, "p_value": pval, "n": _count(z), "mean_rank": mean_rank, "rank_sd": rank_sd}


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
    summary = inp.summary()
    pos_est, cnt = summary.pos, summary.n
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
    p-value as scipy.stats.wilcoxon gives it (exact for small samples without ties,
    normal approximation otherwise; above 50 untied values computed here from the ranks
    already made, with scipy's own operations). n counts the non-zero observations."""
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, _ = inp.factors(window, prediction_error=False)  # pragma: no mutate
    if len(e) and np.isfinite(e).all() and (e != 0).all():
        # the usual case: every column complete and non-zero -> one vectorised call
        # each column ranked on its own, the columns side by side on the block threads
        r = np.vstack(list(ordered_map(lambda col: _ranks(np.abs(col)[None, :]), e.T)))
        stat = np.where(e.T > 0, r, 0.0).sum(axis=1)
        if len(e) > 50 and _untied(r):
            pval = _wilcoxon_normal_p(stat, len(e))
        else:
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



def _untied(r: np.ndarray) -> bool:
    """Whether every row of ranks ``r`` (m, n) is a permutation of 1..n (no tied values)."""
    n = r.shape[1]
    whole = r.astype(np.int64)
    return bool((whole == r).all()) and all((np.bincount(row, minlength=n + 1)[1:] == 1).all() for row in whole)


def _wilcoxon_normal_p(r_plus: np.ndarray, n: int) -> np.ndarray:
    """Two-sided p of the signed-rank sum W+ of n > 50 untied, non-zero values by the normal
    approximation without continuity correction: z = (W+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24),
    the very operations ``scipy.stats.wilcoxon`` performs there (its "auto" method is asymptotic
    above 50; no tie term), without ranking the values a second time."""
    count = float(n)
    mn = count * (count + 1.) * 0.25
    se = np.sqrt(count * (count + 1.) * (2. * count + 1.) / 24)
    return 2 * special.ndtr(-np.abs((r_plus - mn) / se))


def _event_cols(inp, window):
    return slice(None) if window is None else (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])


def _cz_statistic(inp, ev, score, window, n_ev, convention):
    """Corrado & Zivney (1992) standardisation shared by their sign and modified rank
    tests: s_t = sum_i score_it / sqrt(N_t), S = sqrt(sum_t s_t^2 / T) over all ranked
    days; day t: s_t / S; window of D days: sum_t s_t / (sqrt(D) S).

    ``convention="estudy2"``: s_t = N sum_i score_it / N_t^1.5 (its rowMeans x ncol) and
    T = mean_i M_i; identical on complete data. ``score`` maps a block of each pair's
    estimation residuals and event values ``ev`` side by side to their scores.
    """
    L = inp.n_rows
    n_t, tot, M = np.zeros(L + ev.shape[1], dtype=np.int64), np.zeros(L + ev.shape[1]), np.zeros(len(ev))
    for sl, resid, _ in inp.blocks():
        scores = score(np.concatenate([resid, ev[sl]], axis=1))
        ok = np.isfinite(scores)
        n_t += ok.sum(axis=0)
        M[sl] = ok.sum(axis=1)
        tot += np.where(ok, scores, 0.0).sum(axis=0)
    N = len(ev)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        if convention == "estudy2":
            s_t = np.where(n_t > 0, tot * N / np.maximum(n_t, 1) ** 1.5, np.nan)
            T = M.mean()
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
    n = _count(ev) if window is None else np.array([np.isfinite(ev).all(axis=1).sum()])
    return _cz_statistic(inp, ev, _median_signs, window, n, convention)


def _median_signs(combined: np.ndarray) -> np.ndarray:
    """sign(x - median of the row) over a block of pairs (never empty)."""
    with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        return np.sign(combined - np.nanmedian(combined, axis=1)[:, None])


def modified_rank(inp, window, *, convention: str = "impact"):
    """Corrado & Zivney (1992) modified rank test: U_it = K_it / (M_i + 1) - 1/2 with K_it
    the rank among the pair's M_i estimation and event-window days (robust to missing
    days); standardised as in :func:`_cz_statistic`. N(0, 1)."""
    _check_convention(convention)
    ev = inp.ar[:, _event_cols(inp, window)]
    n = _count(ev) if window is None else np.array([np.isfinite(ev).all(axis=1).sum()])
    return _cz_statistic(inp, ev, _rank_scores, window, n, convention)


def _rank_scores(combined: np.ndarray) -> np.ndarray:
    """U = K / (M_i + 1) - 1/2, K the rank among the pair's M_i observed values."""
    return _ranks(combined) / (np.isfinite(combined).sum(axis=1)[:, None] + 1) - 0.5


NONPARAMETRIC: dict[str, Callable[..., dict]] = {
    "corrado_rank": corrado_rank,
    "grank": grank,
    "sign": sign,
    "generalized_sign": generalized_sign,
    "wilcoxon": wilcoxon,
    "corrado_sign": corrado_sign,
    "modified_rank": modified_rank,
}
