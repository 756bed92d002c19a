"""Abnormal volatility around announcements (``result.volatility(window, method)``).

``method="beaver"`` (default). For each pair and event day t, the standardised abnormal
return SAR_t = AR_t / s_t with s_t² the AR's forecast-error variance from the estimation
window (the model's residual variance with its estimation error, CLM 1997 eq. 4.4.9; for
GARCH the conditional variance forecast). Beaver's (1968) variance ratio over a window of
D days is

    U_i = (1/D) Σ_t SAR_t²,

1 on average when nothing happens (exactly df/(df−2) for a t-distributed SAR). Under
normal residuals SAR_t² ~ F(1, df), and U_i is approximated by F(D, df): the per-pair
p-value is one-sided (volatility up).

``method="garch"``: the conditional-variance version. A GARCH(1,1) (Bollerslev 1986) is
fitted by ``arch`` to each pair's estimation-window residuals of the study's normal-return
model (zero mean; rows left out of estimation handled as in :mod:`impact.study.garch`),
and its recursion is run on with the fixed parameters through the sessions after the
estimation window, the abnormal returns being the shocks, so h_t is the one-step-ahead
conditional variance of day t given everything up to day t − 1. The ratio is
U_i = (1/D) Σ_t AR_t² / h_t, 1 on average under the model; under normal shocks D·U_i ~ χ²(D)
(one-sided p). A day of high but *expected* volatility (after a volatile week) is not
abnormal here, as it is for Beaver's constant-variance ratio.

Across pairs, :func:`pooled` gives the mean U, the cross-sectional t of U_i minus its null
mean (df/(df−2), or 1 for the GARCH ratio) and the share of pairs above 1.

Implied-volatility series (registry class ``volatility``: the VIX) are *levels*: their
"return" is the log change of the level, which already is the volatility news (the VIX rose
32% on 10 October 2025). A variance ratio of it would measure the volatility of volatility,
so these pairs report ``measure="level_change"``: the abnormal log change of the level over
the window (their CAR), its t and two-sided p, and NaN for U; :func:`pooled` leaves them out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ImpactError
from ..events.assets import registry
from ..study.extensions import extend
from ..study.garch import fit_gapped
from ..study.result import EventStudyResult
from ..study.statistics import cross_sectional_t, t_pvalue
from ..study.windows import Window

METHODS = ("beaver", "garch")
#: Registry classes whose series are levels (implied volatility): measured by their level change.
LEVEL_CLASSES = ("volatility",)


def _sar_squared(result: EventStudyResult, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SAR (P, D) with the forecast-error variance of each day alone (Beaver), and df (P,)."""
    sar = np.empty((len(result.pairs), len(days)))
    for j, d in enumerate(days):
        one = np.zeros(result.abnormal.shape[1], dtype=bool)
        one[d] = True
        with np.errstate(invalid="ignore", divide="ignore"):
            sar[:, j] = result.abnormal[:, d] / np.sqrt(result.fit.car_variance(result.benchmark, one))
    return sar, np.asarray(result.fit.df, dtype=float)


def garch_paths(result: EventStudyResult) -> tuple[np.ndarray, np.ndarray]:
    """One-step-ahead GARCH(1,1) conditional variances h (P, W) of every event day, and the
    fitted (omega, a, b) (P, 3), from the pairs' estimation residuals (see module doc)."""
    if result.rows is None:
        raise ImpactError("this result carries no estimation rows; refit with EventStudy.fit()")
    ea, eb = result.study.estimation_window
    wa, wb = result.study.event_window
    est = result.rows.gather(np.arange(ea, eb + 1), dates=False)
    resid = est["y"] - result.fit.expected(est["x"])
    usable = np.isfinite(resid) & ~est["masked"]
    between = result.rows.gather(np.arange(eb + 1, wa), dates=False)  # sessions before the window
    with np.errstate(invalid="ignore"):
        shocks_between = between["y"] - result.fit.expected(between["x"])
    fed_between = np.isfinite(shocks_between) & ~between["masked"]
    P, W = result.abnormal.shape
    h_event = np.full((P, W), np.nan)
    params = np.full((P, 3), np.nan)
    for p in range(P):
        if usable[p].sum() < 10:
            continue
        first = int(np.argmax(usable[p]))
        res = fit_gapped(100 * resid[p, first:], None, usable[p, first:])
        if res.convergence_flag != 0:
            continue
        omega, a, b = res.params.to_numpy()[-3:]
        params[p] = omega / 1e4, a, b
        # the recursion on: the estimation window's last row, the sessions between, the event days
        h = float(res.conditional_volatility[-1]) ** 2 / 1e4
        e_prev = float(resid[p, -1]) if usable[p, -1] else np.nan
        shocks = np.r_[np.where(fed_between[p], shocks_between[p], np.nan), result.abnormal[p]]
        path = []
        for s in shocks:
            h = params[p, 0] + params[p, 1] * (e_prev**2 if np.isfinite(e_prev) else h) + params[p, 2] * h
            path.append(h)
            e_prev = s
        h_event[p] = path[len(shocks) - W:]
    return h_event, params


def _is_level(result: EventStudyResult) -> np.ndarray:
    classes = registry()["asset_class"]
    return result.pairs["asset"].map(classes).isin(LEVEL_CLASSES).to_numpy()


def variance_ratios(result: EventStudyResult, window: Window = (0, 0), method: str = "beaver") -> pd.DataFrame:
    """Per pair: ``measure`` (``variance_ratio``, ``garch_ratio`` or ``level_change``), ``u``
    (the ratio over ``window``), ``p_value`` (one-sided for ratios: F(D, df), or χ²(D)/D for
    GARCH; two-sided t for level changes), ``sar`` (mean standardised AR), ``level_change``
    (CAR of an implied-volatility level, else NaN), ``df``, ``n_days``."""
    if method not in METHODS:
        raise ImpactError(f"volatility method must be one of {', '.join(METHODS)}, got {method!r}")
    mask = result._window_mask(window)
    days = np.flatnonzero(mask)
    if len(days) == 0:
        raise ImpactError(f"window {tuple(window)} holds no event day")
    if method == "beaver":
        sar, df = _sar_squared(result, days)
        u = (sar**2).mean(axis=1)
        with np.errstate(invalid="ignore"):
            p = stats.f.sf(u, len(days), np.where(df > 0, df, np.nan))
    else:
        h, _ = garch_paths(result)
        with np.errstate(invalid="ignore", divide="ignore"):
            sar = result.abnormal[:, days] / np.sqrt(h[:, days])
        u = (sar**2).mean(axis=1)
        df = np.full(len(u), np.inf)
        p = stats.chi2.sf(len(days) * u, len(days))
    level = _is_level(result)
    car = result.car(window)
    u, p = np.where(level, np.nan, u), np.where(level, t_pvalue(car["t"].to_numpy(), car["df"].to_numpy()), p)
    df = np.where(level, car["df"].to_numpy(dtype=float), df)
    return pd.DataFrame({"event_id": result.pairs["event_id"], "asset": result.pairs["asset"],
                         "window": f"[{window[0]},{window[1]}]",
                         "measure": np.where(level, "level_change", f"{'variance' if method == 'beaver' else 'garch'}_ratio"),
                         "u": u, "p_value": p, "sar": sar.mean(axis=1),
                         "level_change": np.where(level, car["car"], np.nan), "df": df, "n_days": len(days)})


def pooled(ratios: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Across pairs (per ``by`` group): ``n, mean_u, expected_u`` (mean of df/(df−2); 1 for
    the GARCH ratio, df = inf), ``t, p_value`` (cross-sectional t of U − its null mean;
    two-sided), ``share_above_1``. Level-change rows (no U) are left out."""
    groups = ratios.groupby(by, sort=False) if by else [("all", ratios)]
    rows = []
    for key, g in groups:
        g = g[np.isfinite(g["u"])]
        df = g["df"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            expected = pd.Series(np.where(np.isinf(df), 1.0, df / (df - 2)), index=g.index)
        cs = cross_sectional_t(g["u"] - expected)
        rows.append({by or "group": key, "n": len(g), "mean_u": g["u"].mean(), "expected_u": expected.mean(),
                     "t": cs["t"], "p_value": cs["p_value"], "share_above_1": (g["u"] > 1).mean()})
    return pd.DataFrame(rows)


extend("volatility", variance_ratios)  # result.volatility(window, method)
