"""Rank and sign tests of abnormal returns (formulas and papers in docs/methods.md).

Same calling convention as :mod:`impact.tests_parametric`: ``(inputs, window,
**options) -> dict(statistic, p_value, n)``; two-sided p-values.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .statistics import t_pvalue
from .tests_parametric import _count, _normal_p, standardized


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks within each row (average ties), NaN cells stay NaN and are not counted."""
    if values.size == 0:
        return values.copy()
    return stats.rankdata(values, axis=1, nan_policy="omit")


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
    conventions agree on complete data.
    """
    if convention not in ("impact", "estudy2"):
        from .errors import ImpactError
        raise ImpactError(f"convention must be 'impact' or 'estudy2', got {convention!r}")
    cols = slice(None) if window is None else (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])
    ev = inp.ar[:, cols]
    combined = np.concatenate([inp.resid, ev], axis=1)
    ok = np.isfinite(combined)
    K = _ranks(combined)
    M = ok.sum(axis=1)
    kbar = (M + 1) / 2.0
    d = K - kbar[:, None]
    N = len(combined)
    n_t = ok.sum(axis=0)
    L = inp.resid.shape[1]
    n = _count(ev)
    with np.errstate(invalid="ignore", divide="ignore"):
        if convention == "impact":
            dbar = np.where(n_t > 0, np.nansum(d, axis=0) / np.maximum(n_t, 1), np.nan)
            T = (n_t > 0).sum()
            S = np.sqrt(np.nansum(dbar**2) / T) if T else np.nan
            if window is None:
                stat = dbar[L:] / S
            else:
                stat = np.array([dbar[L:].sum() / (np.sqrt(ev.shape[1]) * S)])
        else:
            T = M.mean() if N else np.nan
            if window is None:
                dbar = np.where(n_t > 0, np.nansum(d, axis=0) * N / np.maximum(n_t, 1) ** 2, np.nan)
                S = np.sqrt(np.nansum(dbar**2) / T)
                stat = dbar[L:] / S
            else:
                centre = kbar.mean()
                day_mean = np.where(n_t > 0, np.nansum(K, axis=0) / np.maximum(n_t, 1), np.nan)
                S = np.sqrt(np.nansum((day_mean - centre) ** 2) / T)
                stat = np.array([np.sqrt(ev.shape[1]) * (np.nanmean(K[:, L:]) - centre) / S])
    if window is not None:
        n = np.array([np.isfinite(ev).all(axis=1).sum()])
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n}


def grank(inp, window, *, sigma: str = "ols", prediction_error: bool = True, pe_rows: str = "pair"):
    """Generalised rank test GRANK-T (Kolari & Pynnönen 2011).

    Estimation days: SAR = residual / sigma_i. Event observation: the
    standardised AR (per day) or CAR (window), re-standardised by its
    cross-sectional sd (n-1) to absorb event-induced volatility. Within each pair
    the L_i + 1 values are ranked, U = K / (M_i + 1) - 1/2; Ubar_t is the mean over
    pairs, S = sqrt(sum_t (N_t/N) Ubar_t^2 / T) over the T = L + 1 days,
    Z = Ubar_event / S and t = Z sqrt((T - 2) / (T - 1 - Z^2)) ~ t(T - 2).
    """
    z = standardized(inp, window, sigma, prediction_error, pe_rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = inp.resid / np.sqrt(inp.sigma2(sigma))[:, None]
    base = _ranks(est)                       # ranks among estimation days only
    L_i = np.isfinite(est).sum(axis=1)
    ok_est = np.isfinite(est)
    stat = np.full(z.shape[1], np.nan)
    pval = np.full(z.shape[1], np.nan)
    n_out = _count(z)
    for j in range(z.shape[1]):
        zj = z[:, j]
        have = np.isfinite(zj)
        if have.sum() < 2:
            continue
        zs = zj / np.nanstd(zj, ddof=1)
        with np.errstate(invalid="ignore"):
            lt = np.where(ok_est, est < zs[:, None], False).sum(axis=1)
            eq = np.where(ok_est, est == zs[:, None], False).sum(axis=1)
            # adding the event value shifts the ranks of larger estimation values by one
            K_est = base + (est > zs[:, None]) + 0.5 * (est == zs[:, None])
        K_ev = lt + 1 + eq / 2.0
        M = L_i + have
        K_est = np.where(have[:, None], K_est, base)
        U_est = K_est / (M[:, None] + 1) - 0.5
        U_ev = np.where(have, K_ev / (M + 1) - 0.5, np.nan)
        U = np.concatenate([U_est, U_ev[:, None]], axis=1)
        n_t = np.isfinite(U).sum(axis=0)
        N = len(U)
        with np.errstate(invalid="ignore"):
            ubar = np.where(n_t > 0, np.nansum(U, axis=0) / np.maximum(n_t, 1), 0.0)
        T = int((n_t > 0).sum())
        S = np.sqrt(((n_t / N) * ubar**2).sum() / T)
        Z = ubar[-1] / S
        with np.errstate(invalid="ignore"):
            t = Z * np.sqrt((T - 2) / (T - 1 - Z**2))
        stat[j] = t
        pval[j] = t_pvalue(t, T - 2)
    return {"statistic": stat, "p_value": pval, "n": n_out}


def sign(inp, window):
    """Sign test: (N+ - N/2) / sqrt(N/4), N+ = #observations > 0; N(0, 1)."""
    e, _, _ = inp.factors(window, prediction_error=False)
    n = _count(e)
    pos = (e > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = (pos - 0.5 * n) / np.sqrt(0.25 * n)
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n}


def generalized_sign(inp, window, *, p_hat: str = "cowan"):
    """Generalised sign test (Cowan 1992): (N+ - N p) / sqrt(N p (1 - p)), N(0, 1).

    p is the share of positive estimation residuals: ``"cowan"`` the mean of the
    pairs' shares (Cowan 1992), ``"pooled"`` all pairs' days together (estudy2).
    """
    e, _, _ = inp.factors(window, prediction_error=False)
    ok = np.isfinite(inp.resid)
    pos_est = (inp.resid > 0).sum(axis=1)
    cnt = ok.sum(axis=1)
    if p_hat == "cowan":
        p = float(np.mean(pos_est[cnt > 0] / cnt[cnt > 0])) if (cnt > 0).any() else np.nan
    elif p_hat == "pooled":
        p = pos_est.sum() / cnt.sum() if cnt.sum() else np.nan
    else:
        from .errors import ImpactError
        raise ImpactError(f"p_hat must be 'cowan' or 'pooled', got {p_hat!r}")
    n = _count(e)
    pos = (e > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = (pos - n * p) / np.sqrt(n * p * (1 - p))
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n, "p_hat": np.full(len(n), p)}


def wilcoxon(inp, window):
    """Wilcoxon (1945) signed-rank test: statistic W+ = sum of the ranks of |x| over
    positive x (zeros dropped, average ties), as estudy2 reports it; two-sided
    p-value from scipy.stats.wilcoxon (exact for small samples without ties,
    normal approximation otherwise). n counts the non-zero observations."""
    e, _, _ = inp.factors(window, prediction_error=False)
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
        pval[j] = stats.wilcoxon(x, zero_method="wilcox").pvalue
    return {"statistic": stat, "p_value": pval, "n": n}


NONPARAMETRIC = {
    "corrado_rank": corrado_rank,
    "grank": grank,
    "sign": sign,
    "generalized_sign": generalized_sign,
    "wilcoxon": wilcoxon,
}
