"""Abnormal volatility around announcements (``result.volatility(window)``).

For each pair and event day t, the standardised abnormal return SAR_t = AR_t / s_t with
s_t² the AR's forecast-error variance from the estimation window (the model's residual
variance with its estimation error, CLM 1997 eq. 4.4.9; for GARCH the conditional
variance forecast). Beaver's (1968) variance ratio over a window of L days is

    U_i = (1/L) Σ_t SAR_t²,

1 on average when nothing happens (exactly df/(df−2) for a t-distributed SAR). Under
normal residuals SAR_t² ~ F(1, df), and U_i is approximated by F(L, df): the per-pair
p-value is one-sided (volatility up). Across pairs, :func:`pooled` gives the mean U, the
cross-sectional t of U_i − df_i/(df_i−2) and the share of pairs above 1; the
cross-sectional variance of day-0 SARs (the variance test of Boehmer, Musumeci &
Poulsen 1991's standardisation) is that mean when the SARs are centred. Implied-volatility
series (the VIX) are levels: their abnormal *return* is already the volatility news.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ImpactError
from ..study.extensions import extend
from ..study.result import EventStudyResult
from ..study.statistics import cross_sectional_t
from ..study.windows import Window


def variance_ratios(result: EventStudyResult, window: Window = (0, 0)) -> pd.DataFrame:
    """Per pair: ``u`` (Beaver's variance ratio over ``window``), ``p_value`` (one-sided,
    F(L, df)), ``sar`` (the mean SAR), ``df``, ``n_days``."""
    mask = result._window_mask(window)
    days = np.flatnonzero(mask)
    if len(days) == 0:
        raise ImpactError(f"window {tuple(window)} holds no event day")
    sar2 = np.empty((len(result.pairs), len(days)))
    sar = np.empty_like(sar2)
    for j, d in enumerate(days):
        one = np.zeros_like(mask)
        one[d] = True
        with np.errstate(invalid="ignore", divide="ignore"):
            sar[:, j] = result.abnormal[:, d] / np.sqrt(result.fit.car_variance(result.benchmark, one))
        sar2[:, j] = sar[:, j] ** 2
    u = sar2.mean(axis=1)
    df = np.asarray(result.fit.df, dtype=float)
    with np.errstate(invalid="ignore"):
        p = stats.f.sf(u, len(days), np.where(df > 0, df, np.nan))
    return pd.DataFrame({"event_id": result.pairs["event_id"], "asset": result.pairs["asset"],
                         "window": f"[{window[0]},{window[1]}]", "u": u, "p_value": p, "sar": sar.mean(axis=1),
                         "df": df, "n_days": len(days)})


def pooled(ratios: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Across pairs (per ``by`` group): ``n, mean_u, expected_u`` (mean of df/(df−2)),
    ``t, p_value`` (cross-sectional t of U − its null mean; two-sided), ``share_above_1``."""
    groups = ratios.groupby(by, sort=False) if by else [("all", ratios)]
    rows = []
    for key, g in groups:
        g = g[np.isfinite(g["u"])]
        expected = g["df"] / (g["df"] - 2)
        cs = cross_sectional_t(g["u"] - expected)
        rows.append({by or "group": key, "n": len(g), "mean_u": g["u"].mean(), "expected_u": expected.mean(),
                     "t": cs["t"], "p_value": cs["p_value"], "share_above_1": (g["u"] > 1).mean()})
    return pd.DataFrame(rows)


extend("volatility", variance_ratios)  # result.volatility(window)
