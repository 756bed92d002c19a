"""What every test of the battery sees: the inputs built once per fitted result.

Every test sees the same inputs, built once per result (:class:`BatteryInputs`):
event-window abnormal returns AR (P, W), each pair's estimation-window
residuals (P, L; NaN on unusable rows), residual variances under the chosen
convention and the prediction-error factors of CLM (1997, eq. 4.4.14).

A test is then applied to *event observations* e (P, m) with variance factors
f (P, m), sigma_i^2 f_im being the variance of e_im under the null:

* ``window=None``: m = W columns, one per rel_day, e = AR_it, f = 1 + 1/L_i +
  (x_t - xbar)'(X_c'X_c)^-1 (x_t - xbar);
* ``window=(a, b)``: m = 1, e = CAR_i(a, b), f = D + D^2/L_i + s'(X_c'X_c)^-1 s
  (D = b - a + 1, s the summed centred regressors), the Var(CAR) the rest of the
  package reports.

The formulas, their papers and the peer conventions are in docs/methods.md.
The test functions live in :mod:`impact.inference.parametric` and
:mod:`impact.inference.nonparametric`; they are pure functions of these inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ImpactError
from ..study.models import NormalFit

SIGMA_CONVENTIONS = ("ols", "n-1", "n")
PE_ROWS = ("pair", "benchmark")


@dataclass
class BatteryInputs:
    ar: np.ndarray            # (P, W) event-window abnormal returns
    rel_days: np.ndarray      # (W,)
    resid: np.ndarray         # (P, L) estimation residuals, NaN where unusable
    x_est: np.ndarray         # (P, L, k) regressors on estimation rows (NaN outside the series)
    n_obs: np.ndarray         # (P,) usable estimation rows
    df: np.ndarray            # (P,) residual degrees of freedom of the fit
    fit: NormalFit            # the study's normal-return fit
    benchmark: np.ndarray     # (P, W, k) regressors in the event window
    memo: dict = field(default_factory=dict, repr=False)  # derived quantities shared by tests

    def sigma2(self, sigma: str = "ols") -> np.ndarray:
        """Residual variance: ``ols`` SSR/(L_i - p) as fitted (default), ``n-1`` the
        sample variance of the estimation ARs (estudy2), ``n`` with denominator L_i
        (eventstudy-py)."""
        if sigma == "ols":
            return np.asarray(self.fit.sigma2, dtype=float)  # pragma: no mutate (sigma2 is already a float array)
        if sigma not in SIGMA_CONVENTIONS:
            raise ImpactError(f"sigma must be one of {', '.join(SIGMA_CONVENTIONS)}, got {sigma!r}")
        key = ("sigma2", sigma)  # pragma: no mutate (cache key: a renamed key only misses the cache)
        if key not in self.memo:
            ok = np.isfinite(self.resid)
            n = ok.sum(axis=1)
            r = np.where(ok, self.resid, 0.0)
            mean = r.sum(axis=1) / np.maximum(n, 1)
            ssq = (np.where(ok, self.resid - mean[:, None], 0.0) ** 2).sum(axis=1)
            denom = n - (1 if sigma == "n-1" else 0)
            with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                # no mutate below: inner guard: entries replaced by NaN
                self.memo[key] = np.where(denom > 0, ssq / np.where(denom > 0, denom, 1), np.nan)  # pragma: no mutate
        return self.memo[key]

    def factors(self, window, prediction_error: bool = True, pe_rows: str = "pair"):
        """Event observations and variance factors: (e (P, m), f (P, m), days (m,), labels)."""
        if pe_rows not in PE_ROWS:
            raise ImpactError(f"pe_rows must be one of {', '.join(PE_ROWS)}, got {pe_rows!r}")
        P, W = self.ar.shape
        masks = [self.rel_days == d for d in self.rel_days] if window is None else [
            (self.rel_days >= window[0]) & (self.rel_days <= window[1])]
        e = np.column_stack([self.ar[:, m].sum(axis=1) for m in masks]) if P else np.zeros((0, len(masks)))
        days = np.array([m.sum() for m in masks], dtype=float)
        if not prediction_error:
            return e, np.broadcast_to(days, e.shape).copy(), days
        if pe_rows == "pair":
            # Var(CAR)/sigma^2 exactly as the fit reports it (CLM 1997 eq. 4.4.14).
            with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                f = np.column_stack([self.fit.car_variance(self.benchmark, m) / self.fit.sigma2 for m in masks])
            return e, f, days
        # estudy2: xbar and the centred cross-products over every estimation row where
        # the benchmark is observed, even rows where the asset is missing.
        x = self.x_est
        ok = np.isfinite(x).all(axis=2)
        cnt = np.maximum(ok.sum(axis=1), 1)
        xbar = np.where(ok[:, :, None], x, 0.0).sum(axis=1) / cnt[:, None]
        xc = np.where(ok[:, :, None], x - xbar[:, None, :], 0.0)
        xtx = np.einsum("plk,plj->pkj", xc, xc)  # pragma: no mutate (upper-case einsum labels give the same sum)
        ainv = np.linalg.pinv(xtx)
        f = np.empty_like(e)
        for j, m in enumerate(masks):
            s = (self.benchmark[:, m, :] - xbar[:, None, :]).sum(axis=1)
            d = days[j]
            f[:, j] = d + d**2 / self.n_obs + np.einsum("pk,pkj,pj->p", s, ainv, s)
        return e, f, days


def inputs(result) -> BatteryInputs:
    """Build (and cache on the result) the arrays every test needs."""
    cache = result._cache
    if "battery" in cache:  # pragma: no mutate (cache key: a renamed key only misses the cache)
        return cache["battery"]
    if result.rows is None:
        raise ImpactError("this result carries no estimation rows; refit with EventStudy.fit()")
    ea, eb = result.study.estimation_window
    g = result.rows.gather(np.arange(ea, eb + 1), dates=False)
    fit = result.fit
    usable = np.isfinite(g["y"]) & np.isfinite(g["x"]).all(axis=2) & ~g["masked"]
    with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        resid = g["y"] - fit.expected(g["x"])
    resid[~usable] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
    built = BatteryInputs(
        ar=result.abnormal, rel_days=result.rel_days, resid=resid, x_est=g["x"],
        n_obs=np.asarray(fit.n_obs, dtype=float), df=np.asarray(fit.df, dtype=float), fit=fit,
        benchmark=result.benchmark,
    )
    cache["battery"] = built  # pragma: no mutate (cache key: a renamed key only misses the cache)
    return built


def check_window(result, window):
    if window is None:
        return None
    try:
        a, b = (int(v) for v in window)
    except (TypeError, ValueError):
        raise ImpactError(f"window must be a pair of integers (start, end), got {window!r}") from None
    ea, eb = result.study.event_window
    if a > b or a < ea or b > eb:
        raise ImpactError(f"window {(a, b)} must be an ordered range inside the event window {(ea, eb)}")
    return a, b
