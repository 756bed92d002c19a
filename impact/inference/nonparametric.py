"""Rank and sign tests of abnormal returns (formulas and papers in docs/methods.md).

Same calling convention as :mod:`impact.tests_parametric`: ``(inputs, window,
**options) -> dict(statistic, p_value, n)``; two-sided p-values.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special, stats

from ..errors import ImpactError
from ..study.statistics import t_pvalue
from .inputs import _ranks
from .parametric import _count, _normal_p, standardized


def _combined_rank_columns(inp, cols):
    """Ranks of each pair's estimation residuals and its event values ``inp.ar[:, cols]`` (P, m)
    ranked together, summarised by column without sorting again: the estimation ranks
    (:meth:`BatteryInputs.summary`) shift by the number of event values below (half for
    ties), and an event value's rank is #estimation values below (+ half the ties) + its
    rank among the event values. The counts are kept per event column
    (:func:`_event_column_counts`), so a window's columns cost no new pass.
    Returns (column sums of K over observed pairs (L + m,), observed pairs per column
    n_t, sum of the centres (M_i + 1)/2 of the observed pairs per column, M (P,))."""
    s = inp.summary()
    ev = inp.ar[:, cols]
    sel = np.arange(inp.ar.shape[1])[cols]
    counts = _event_column_counts(inp, sel)
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


def _event_column_counts(inp, sel: np.ndarray) -> dict:
    """Per event column w of ``inp.ar``, over every pair, in one pass over the estimation rows:
    per row the pairs whose estimation value lies above the event value (``gt``) and equals it
    (``eq``), the sum of #estimation values below it (+ half the ties) (``below``) and per row the
    finite estimation values of the pairs without that event value (``lacking``). Kept for a
    fitted result, where a first call counts every column (the next window or the days then
    cost no pass); inputs handed in as arrays count the columns asked for."""
    memo = inp.memo.setdefault("event_column_counts", {}) if inp.rows is not None else {}
    todo = [int(w) for w in (range(inp.ar.shape[1]) if inp.rows is not None else sel) if int(w) not in memo]
    if todo:
        s = inp.summary()
        have = np.isfinite(inp.ar[:, todo])
        L = inp.n_rows
        gt_rows, eq_rows, lacking = (np.zeros((len(todo), L), dtype=np.int64) for _ in range(3))
        below = np.zeros(len(todo))
        for sl, est, _ in inp.blocks():
            finite = np.isfinite(est)
            n_have = s.n[sl] @ have[sl]  # estimation values of the pairs with each event value
            for j, w in enumerate(todo):
                e = inp.ar[sl, w, None]
                with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                    lt, gt = est < e, est > e
                n_lt, n_gt = np.count_nonzero(lt), np.count_nonzero(gt)
                gt_rows[j] += np.count_nonzero(gt, axis=0)
                n_eq = n_have[j] - n_lt - n_gt
                below[j] += n_lt + 0.5 * n_eq
                if n_eq:
                    eq_rows[j] += np.count_nonzero(finite & ~lt & ~gt & have[sl, j, None], axis=0)
                if not have[sl, j].all():
                    lacking[j] += np.count_nonzero(finite[~have[sl, j]], axis=0)
        memo.update({w: (gt_rows[j], eq_rows[j], below[j], lacking[j]) for j, w in enumerate(todo)})
    return memo


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
    num, n_est, K_ev, L_i = _grank_pass(inp, zs, np.sqrt(inp.sigma2(sigma)))
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


def _grank_pass(inp, zs: np.ndarray, scale: np.ndarray):
    """GRANK's sums over the pairs, one pass over the estimation rows block by block.

    SAR_i,tau = residual / sigma_i has the ranks of the residuals (:meth:`BatteryInputs.summary`).
    Adding the event value z_i moves every larger estimation value up by one (half for ties):
    K = base + [SAR > z] + [SAR == z]/2, weighted by w_i = 1 / (M_i + 1), M_i = L_i + [z_i observed].
    Returns per column of ``zs``: sum_i w_i K_i,tau (J, L); the pairs observed per row (L,);
    K of the event values (P, J); L_i (P,)."""
    P, J = zs.shape
    L = inp.n_rows
    s = inp.summary()
    have = np.isfinite(zs)
    num = np.tile(s.rank_w, (J, 1))  # every pair with its event value and L_i = n_i: weight 1 / (n_i + 2)
    part = np.zeros((J, L))
    counts: list[dict[float, np.ndarray]] = [{} for _ in range(J)]
    n_est, L_i, K_ev = np.zeros(L, dtype=np.int64), np.zeros(P, dtype=np.int64), np.full((P, J), np.nan)
    for sl, resid, _ in inp.blocks():
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            est = resid / scale[sl, None]
        ok = np.isfinite(est)
        le = ok.sum(axis=1)
        L_i[sl] = le
        n_est += ok.sum(axis=0)
        w = 1.0 / (le[:, None] + have[sl] + 1)
        odd = (le != s.n[sl])[:, None] | ~have[sl]  # a weight other than the summary's 1 / (n_i + 2)
        if odd.any():
            rows = odd.any(axis=1)
            base, w_odd, w_sum = _ranks(resid[rows]), w[rows], 1.0 / (s.n[sl][rows] + 2)
            for j in np.flatnonzero(odd.any(axis=0)):
                k = odd[rows, j]
                num[j] += np.nansum(base[k] * w_odd[k, j, None], axis=0) - np.nansum(base[k] * w_sum[k, None], axis=0)
        for j in np.flatnonzero(have[sl].any(axis=0)):
            with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                gt, eq = est > zs[sl, j, None], est == zs[sl, j, None]
            wj = w[:, j]
            if (wj == wj[0]).all():  # a plain count when every pair has the same weight
                counts[j][wj[0]] = counts[j].get(wj[0], 0) + _count_bool(gt, 0)
            else:
                part[j] += wj @ gt
            n_eq = np.zeros(len(le), dtype=np.int64)
            if eq.any():
                n_eq = _count_bool(eq, 1)
                part[j] += 0.5 * (wj @ eq)
            K_ev[sl, j] = (le - _count_bool(gt, 1) - n_eq) + 1 + np.divide(n_eq, 2.0)
    for row, by_weight, rest in zip(num, counts, part):
        row += sum(c * wt for wt, c in by_weight.items()) + rest
    return num, n_est, K_ev, L_i


def _count_bool(b: np.ndarray, axis: int) -> np.ndarray:
    """``np.count_nonzero(b, axis)`` for a 2-D bool block, summed as bytes (several times faster)."""
    return b.view(np.uint8).sum(axis=axis, dtype=np.uint16 if b.shape[axis] < 2**16 else np.int64).astype(np.int64)


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
    p-value from scipy.stats.wilcoxon (exact for small samples without ties,
    normal approximation otherwise). n counts the non-zero observations."""
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, _ = inp.factors(window, prediction_error=False)  # pragma: no mutate
    if len(e) and np.isfinite(e).all() and (e != 0).all():
        # the usual case: every column complete and non-zero -> one vectorised call
        r = _ranks(np.abs(e).T)
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
