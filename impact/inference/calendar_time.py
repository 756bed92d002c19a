"""The calendar-time portfolio (Jaffe 1974; Mandelker 1974; Fama 1998).

Instead of averaging CARs across pairs in event time, hold on every calendar day t
the equally weighted portfolio of the assets that are inside their event window
[a, b] on that day, and regress its return on the benchmark:

    R_p,t = (1/n_t) sum_{i in window on t} R_i,t,
    R_p,t = alpha + beta R_m,t + u_t,      t = days with n_t >= 1,

so alpha is the average daily abnormal return of an asset in its event window and
its t-statistic is the time-series t of the regression (OLS, ``cov="nonrobust"``,
or Newey-West HAC with ``hac_lags``). Because one portfolio return is observed per
date, the same-date cross-correlation of the assets is in the residual variance of
that date and never counted as independent evidence (Fama 1998, sec. 5; Mitchell &
Stafford 2000).

Conventions:

* R_m,t is the benchmark return of the pairs in the portfolio on that day, the
  column the market model used (``result.benchmark[..., 0]``); with one benchmark
  and one calendar it is the market return of t, with several benchmarks it is the
  equally weighted mean of the members' benchmarks.
* A pair counts once on each day of its window (two events of one asset with
  overlapping windows are two pairs: :meth:`by_bundle` keeps such bundles once).
* Days with no asset in its window are left out; ``mean_assets`` is the mean n_t.
* A study without a benchmark (``constant_mean``, ``raw``), or ``model="constant"``,
  regresses on a constant only: alpha is then the mean portfolio return.

References: Jaffe, J. F. (1974), "Special information and insider trading",
Journal of Business 47(3); Mandelker, G. (1974), "Risk and return: the case of
merging firms", JFE 1(4); Fama, E. F. (1998), "Market efficiency, long-term returns,
and behavioral finance", JFE 49(3); Newey, W. K. & West, K. D. (1987), Econometrica 55(3).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ..errors import ImpactError
from ..study.extensions import extend
from ..study.models import NEEDS_BENCHMARK
from ..study.windows import Window

MODELS = ("market", "constant")
NO_BENCHMARK = ("constant_mean", "raw")
COLUMNS = ["window", "model", "alpha", "se", "t", "p_value", "beta", "n_days", "mean_assets", "cov"]


def portfolio_series(result, window: Window | None = None) -> pd.DataFrame:
    """Per calendar day with at least one pair in its window: ``ret`` (the equally
    weighted portfolio return), ``benchmark`` (the members' mean benchmark return,
    NaN if the study has none) and ``n_assets``; indexed by date, sorted."""
    window = window or result.study.event_window
    mask = result._window_mask(window)
    P, w = len(result.pairs), int(mask.sum())
    bench = result.benchmark[:, mask, 0] if result.benchmark.shape[-1] else np.full((P, w), np.nan)
    rows = pd.DataFrame({
        "pair": np.repeat(np.arange(P), w),
        "date": pd.to_datetime(result.dates[:, mask].reshape(-1)),
        "ret": result.raw[:, mask].reshape(-1),
        "benchmark": bench.reshape(-1),
    })
    rows = rows[rows["date"].notna()].drop_duplicates(["pair", "date"])  # a pair counts once a day
    days = rows.groupby("date", sort=True).agg(ret=("ret", "mean"), benchmark=("benchmark", "mean"),
                                               n_assets=("pair", "size"))
    return days


def _regressors(result, model: str) -> str:
    """The regression to run ("market" or "constant") for this study and ``model``."""
    if model not in MODELS:
        raise ImpactError(f"unknown calendar_time model {model!r} (choose from {', '.join(MODELS)})")
    if model == "constant":
        return "constant"
    kinds = set(result.fit.models.tolist()) if len(result.pairs) else {result.study.model}
    if kinds <= set(NO_BENCHMARK):
        return "constant"
    if not kinds <= set(NEEDS_BENCHMARK):
        raise ImpactError(f"calendar_time model='market' needs a market benchmark for every pair; this study uses "
                          f"{', '.join(sorted(kinds))}: pass model='constant'")
    return "market"


def calendar_time(result, window: Window | None = None, model: str = "market", hac_lags: int | None = None
                  ) -> pd.DataFrame:
    """Calendar-time portfolio regression (Jaffe 1974; Mandelker 1974; Fama 1998) of the
    assets inside their event ``window`` (default: the study's event window); see the
    module docs. ``model="market"`` regresses on the benchmark (a constant only if the
    study has none), ``"constant"`` on a constant; ``hac_lags``: Newey-West standard
    errors with that many lags (None: the OLS ones).

    One row: ``window, model, alpha, se, t, p_value, beta, n_days, mean_assets, cov``.
    """
    used = _regressors(result, model)
    if hac_lags is not None and (isinstance(hac_lags, bool) or not isinstance(hac_lags, (int, np.integer))
                                 or hac_lags < 0):
        raise ImpactError(f"hac_lags must be a whole number >= 0 or None, not {hac_lags!r}")
    days = portfolio_series(result, window)
    window = window or result.study.event_window
    n_params = 2 if used == "market" else 1
    if len(days) <= n_params:
        raise ImpactError(f"calendar_time needs more than {n_params} calendar days with an asset in its window, "
                          f"this result has {len(days)}")
    y = days["ret"].to_numpy(dtype=float)
    x = np.ones((len(days), 1))
    if used == "market":
        x = np.column_stack([x, days["benchmark"].to_numpy(dtype=float)])
    ols = sm.OLS(y, x)
    fit = ols.fit() if hac_lags is None else ols.fit(cov_type="HAC", cov_kwds={"maxlags": int(hac_lags)})
    cov = "nonrobust" if hac_lags is None else f"HAC({int(hac_lags)})"
    params, bse, tv, pv = (np.asarray(a) for a in (fit.params, fit.bse, fit.tvalues, fit.pvalues))
    beta = float(params[1]) if used == "market" else np.nan
    return pd.DataFrame([[f"[{window[0]},{window[1]}]", used, float(params[0]), float(bse[0]), float(tv[0]),
                          float(pv[0]), beta, len(days), float(days["n_assets"].mean()), cov]], columns=COLUMNS)


extend("calendar_time", calendar_time)  # result.calendar_time(): the Jaffe-Mandelker portfolio
