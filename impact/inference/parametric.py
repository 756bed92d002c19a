"""Parametric tests of abnormal returns (formulas and papers in docs/methods.md).

Each test takes the battery inputs (:class:`impact.battery.BatteryInputs`) and
``window`` (None: one column per rel_day; (a, b): the CAR over the window) and
returns a dict of arrays ``statistic, p_value, n`` (one entry per column).
All p-values are two-sided.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from ..errors import ImpactError
from ..study.statistics import t_pvalue
from .inputs import correlation_sums


def _normal_p(z: np.ndarray) -> np.ndarray:
    return 2.0 * stats.norm.sf(np.abs(z))


def _count(e: np.ndarray) -> np.ndarray:
    return np.isfinite(e).sum(axis=0)


def _safe_div(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)  # pragma: no mutate (inner guard: entries replaced by NaN)


def t_cs(inp, window):
    """Cross-sectional t (Brown & Warner 1985): mean / (sd_{n-1} / sqrt(N)), t(N-1)."""
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, _ = inp.factors(window, prediction_error=False)  # pragma: no mutate
    n = _count(e)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        mean = np.nanmean(e, axis=0) if len(e) else np.full(e.shape[1], np.nan)
        sd = np.nanstd(e, axis=0, ddof=1) if len(e) > 1 else np.full(e.shape[1], np.nan)
    t = _safe_div(mean * np.sqrt(n), sd)
    return {"statistic": t, "p_value": t_pvalue(t, n - 1), "n": n}


def brown_warner_1980(inp, window, *, sigma: str = "ols", prediction_error: bool = False, df=None):
    """Mean AR over its standard error under cross-sectional independence
    (Brown & Warner 1980): A / sqrt(sum_i sigma_i^2 f_i) * N.

    ``df`` defaults to the Satterthwaite degrees of freedom of the pooled variance
    (sum_i df_i when all pairs have equal variances); eventstudy-py uses N (L - 1).
    """
    e, f, _ = inp.factors(window, prediction_error=prediction_error)
    s2 = inp.sigma2(sigma)[:, None] * f
    ok = np.isfinite(e)
    n = ok.sum(axis=0)
    v = np.where(ok, s2, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        stat = _safe_div(np.where(ok, e, 0.0).sum(axis=0), np.sqrt(v))
        if df is None:
            df = v**2 / np.where(ok, s2**2 / inp.df[:, None], 0.0).sum(axis=0)
    return {"statistic": stat, "p_value": t_pvalue(stat, df), "n": n}


def estimation_aar(inp) -> np.ndarray:
    """Mean estimation-window residual per estimation row across pairs (NaN-aware)."""
    s = inp.summary()
    return np.where(s.n_row > 0, s.total / np.maximum(s.n_row, 1), np.nan)


def brown_warner_1985(inp, window, *, df=None):
    """Crude dependence adjustment (Brown & Warner 1980, 1985): A / (sd(A_tau) sqrt(D)),
    sd (n-1) over the estimation rows of the mean residual; t(T_est - 1)."""
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    e, _, days = inp.factors(window, prediction_error=False)  # pragma: no mutate
    if "aar_tau" not in inp.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
        a = estimation_aar(inp)
        inp.memo["aar_tau"] = a[np.isfinite(a)]
    a_tau = inp.memo["aar_tau"]
    sd = a_tau.std(ddof=1) if len(a_tau) > 1 else np.nan
    n = _count(e)
    with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        mean = np.where(n > 0, np.nansum(e, axis=0) / np.maximum(n, 1), np.nan)
    stat = _safe_div(mean, sd * np.sqrt(days)) if np.isfinite(sd) else np.full(len(days), np.nan)
    return {"statistic": stat, "p_value": t_pvalue(stat, len(a_tau) - 1 if df is None else df), "n": n}


def lamb(inp, window, *, convention: str = "impact", df=None):
    """Lamb (1995): the crude-dependence t of :func:`brown_warner_1985` with the
    market model's prediction-error factor of one common market,
    A_t / (sd(A_tau) sqrt(1 + 1/Lbar + (x_t - xbar)^2 / sum_tau (x_tau - xbar)^2)),
    Lbar the mean estimation length; xbar and the sum over the estimation rows where
    the market is observed. Meant for one event date: the market series is that of
    the first pair. Window: CAAR / (sd sqrt(D + D^2/Lbar + (sum_t x_t - D xbar)^2 /
    sum_tau (x_tau - xbar)^2)); ``convention="estudy2"``: the sum of the daily
    statistics / sqrt(D). t(T_est - 1).
    """
    if convention not in ("impact", "estudy2"):
        raise ImpactError(f"convention must be 'impact' or 'estudy2', got {convention!r}")
    if inp.benchmark.shape[2] != 1 or getattr(inp.fit, "model", "market") not in ("market", "garch"):
        raise ImpactError("lamb: the test is defined for the single-index market model only")
    bw = brown_warner_1985(inp, None)  # daily A_t / sd(A_tau)
    x = next(inp.blocks(x=True))[2][0, :, 0]  # the first pair's market series
    x = x[np.isfinite(x)]
    xbar, sxx = x.mean(), ((x - x.mean()) ** 2).sum()
    x_ev = inp.benchmark[0, :, 0]
    lbar = inp.n_obs.mean()
    daily = bw["statistic"] / np.sqrt(1 + 1 / lbar + (x_ev - xbar) ** 2 / sxx)
    n = bw["n"]
    if window is not None:
        m = (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])
        D = m.sum()
        if convention == "estudy2":
            stat = np.array([daily[m].sum() / np.sqrt(D)])
        else:
            factor = D + D**2 / lbar + (x_ev[m].sum() - D * xbar) ** 2 / sxx
            stat = np.array([bw["statistic"][m].sum() / np.sqrt(factor)])
        n = n[:1]
    else:
        stat = daily
    T = len(inp.memo["aar_tau"])
    return {"statistic": stat, "p_value": t_pvalue(stat, T - 1 if df is None else df), "n": n}


def standardized(inp, window, sigma="ols", prediction_error=True, pe_rows="pair"):
    """Standardised event observations e / (sigma_i sqrt(f_i)) (Patell 1976)."""
    e, f, _ = inp.factors(window, prediction_error=prediction_error, pe_rows=pe_rows)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        return e / np.sqrt(inp.sigma2(sigma)[:, None] * f)


def patell(inp, window, *, sigma: str = "ols", prediction_error: bool = True, pe_rows: str = "pair",
           multiday: str = "car"):
    """Patell (1976): sum_i SAR_i / sqrt(sum_i df_i / (df_i - 2)), N(0, 1).

    SAR_i ~ t(df_i) with df_i = L_i - p, so Var(SAR_i) = df_i / (df_i - 2); the
    sigma must be the OLS one (``sigma="ols"``) for that variance to hold. For a
    window, ``multiday="car"`` standardises the CAR by its own variance (CLM 1997 eq.
    4.4.14); ``multiday="csar"`` sums the daily standardised ARs instead, z_i = CSAR_i /
    sqrt(D Q_i) with Q_i = df_i / (df_i - 2), and the statistic is sum_i z_i / sqrt(N)
    (Patell 1976; R EventStudy's ``caar_z``). Components: ``mean_sar`` (mean of the
    standardised values that are summed) and ``var_sar`` (their mean null variance), so
    statistic = sqrt(N) mean_sar / sqrt(var_sar).
    """
    if multiday not in ("car", "csar"):
        raise ImpactError(f"multiday must be 'car' or 'csar', got {multiday!r}")
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        var = np.where(inp.df > 2, inp.df / (inp.df - 2), np.nan)[:, None]
    if multiday == "csar" and window is not None:
        days = (inp.rel_days >= window[0]) & (inp.rel_days <= window[1])
        daily = standardized(inp, None, sigma, prediction_error, pe_rows)[:, days]
        z = daily.sum(axis=1, keepdims=True) / np.sqrt(days.sum() * var)
        var = np.ones_like(var)
    else:
        z = standardized(inp, window, sigma, prediction_error, pe_rows)
    ok = np.isfinite(z) & np.isfinite(var)  # df <= 2: Var(SAR) is infinite, the pair cannot enter
    n = ok.sum(axis=0)
    total, q = np.where(ok, z, 0.0).sum(axis=0), np.where(ok, var, 0.0).sum(axis=0)
    stat = _safe_div(total, np.sqrt(q))
    return {"statistic": stat, "p_value": _normal_p(stat), "n": n, "mean_sar": _safe_div(total, n),
            "var_sar": _safe_div(q, n)}


def _bmp(z):
    n = _count(z)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        mean = np.nanmean(z, axis=0) if len(z) else np.full(z.shape[1], np.nan)
        sd = np.nanstd(z, axis=0, ddof=1) if len(z) > 1 else np.full(z.shape[1], np.nan)
    return _safe_div(mean * np.sqrt(n), sd), n, {"mean_sar": mean, "sd_sar": sd}


def bmp(inp, window, *, sigma: str = "ols", prediction_error: bool = True, pe_rows: str = "pair"):
    """Boehmer, Musumeci & Poulsen (1991): cross-sectional t of the standardised
    observations, mean(SAR) / (sd_{n-1}(SAR) / sqrt(N)), t(N-1); robust to
    event-induced variance. Components ``mean_sar``, ``sd_sar``."""
    stat, n, parts = _bmp(standardized(inp, window, sigma, prediction_error, pe_rows))
    return {"statistic": stat, "p_value": t_pvalue(stat, n - 1), "n": n, **parts}


def average_correlation(resid: np.ndarray) -> float:
    """Average off-diagonal correlation of the pairs' estimation residuals, rows
    aligned by position relative to day 0 (so pairs on the same date are compared
    on the same days).

    Each pair's residuals are standardised over its own usable rows (ddof 0);
    r = sum_tau [(sum_i z_i)^2 - sum_i z_i^2] / sum_tau (m_tau^2 - m_tau), m_tau the
    pairs observed on row tau. With complete windows this is exactly the mean of
    the N(N-1) off-diagonal Pearson correlations (the diagonal is left out).
    """
    return _average_correlation(*correlation_sums(resid))


def _average_correlation(z: np.ndarray, zz: np.ndarray, m: np.ndarray) -> float:
    """:func:`average_correlation` from its per-row sums (:func:`correlation_sums`, added over blocks)."""
    den = (m * m - m).sum()
    if den <= 0:
        return np.nan
    return float(((z**2) - zz).sum() / den)


def kolari_pynnonen(inp, window, *, sigma: str = "ols", prediction_error: bool = True, pe_rows: str = "pair"):
    """Kolari & Pynnönen (2010) adjusted BMP: BMP * sqrt((1 - r) / (1 + (N - 1) r)),
    r the average off-diagonal residual correlation (:func:`average_correlation`)."""
    stat, n, parts = _bmp(standardized(inp, window, sigma, prediction_error, pe_rows))
    if "r_bar" not in inp.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
        s = inp.summary()
        inp.memo["r_bar"] = _average_correlation(s.z, s.zz, s.m)
    r = inp.memo["r_bar"]
    with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        adj = stat * np.sqrt((1 - r) / (1 + (n - 1) * r))
    return {"statistic": adj, "p_value": t_pvalue(adj, n - 1), "n": n, "r_bar": np.full(len(n), r), **parts}


def pair_t(inp, window, *, sigma: str = "ols", prediction_error: bool = True, df=None):
    """Per-pair t of the CAR: CAR_i / (sigma_i sqrt(f_i)), t(df_i) (CLM 1997 eq. 4.4.14
    with ``prediction_error=True``; eventstudy-py: ``sigma="n", prediction_error=False``,
    df L - 1)."""
    e, f, _ = inp.factors(window, prediction_error=prediction_error)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        t = e[:, 0] / np.sqrt(inp.sigma2(sigma) * f[:, 0])
    dfs = inp.df if df is None else np.broadcast_to(np.asarray(df, dtype=float), t.shape)
    return {"t": t, "p_value": t_pvalue(t, dfs), "df": dfs}


PARAMETRIC: dict[str, Callable[..., dict]] = {
    "t_cs": t_cs,
    "brown_warner_1980": brown_warner_1980,
    "brown_warner_1985": brown_warner_1985,
    "patell": patell,
    "bmp": bmp,
    "kolari_pynnonen": kolari_pynnonen,
    "lamb": lamb,
}
