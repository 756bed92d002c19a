"""Normal-return models, fitted for all (event, asset) pairs in one batched pass.

Each pair has an estimation window of L rows (a mask marks usable rows). With
y the asset's returns and X the k regressors on those rows:

* ``market`` — market model, R_t = alpha + beta R_mt + e_t, OLS
  (Campbell, Lo & MacKinlay 1997, sec. 4.4.1).
* ``constant_mean`` — R_t = mu + e_t (CLM 1997, sec. 4.3.1).
* ``market_adjusted`` — AR_t = R_t - R_mt, no parameters (Brown & Warner 1980, 1985).
* ``raw`` — AR_t = R_t, for studies that report event-day returns themselves.

OLS is solved in closed form on demeaned data for every pair at once; results
equal statsmodels OLS pair by pair. sigma^2 = SSR / (n - p) with p the number of
estimated parameters (n - 1 for the parameter-free models, where the residual
variance is the sample variance of the estimation-window ARs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ImpactError

MODELS = ("market", "constant_mean", "market_adjusted", "raw")
#: Models whose regressors include the benchmark return.
NEEDS_BENCHMARK = ("market", "market_adjusted")


@dataclass
class NormalFit:
    """Fitted normal-return parameters for P pairs (arrays of length P)."""

    model: str
    alpha: np.ndarray          # (P,)
    beta: np.ndarray           # (P, k); fixed slopes for parameter-free models
    sigma2: np.ndarray         # (P,) residual variance
    n_obs: np.ndarray          # (P,) usable estimation rows
    df: np.ndarray             # (P,) residual degrees of freedom
    xbar: np.ndarray           # (P, k) regressor means over the estimation rows
    xtx_inv: np.ndarray | None # (P, k, k) inverse centred cross-products (estimated slopes)
    mean_estimated: bool       # whether the intercept/mean is estimated
    problem: np.ndarray        # (P,) object: "" or the reason the fit is unusable

    def expected(self, X: np.ndarray) -> np.ndarray:
        """Normal returns for regressors X of shape (P, W, k)."""
        return self.alpha[:, None] + np.einsum("pwk,pk->pw", X, self.beta)

    def car_variance(self, X: np.ndarray, window: np.ndarray) -> np.ndarray:
        """Var(CAR) over the rows of ``window`` (bool, (W,)) including estimation error.

        Var(CAR) = sigma^2 [ L2 + L2^2/n + s' (X_c'X_c)^{-1} s ],  s = sum_{t in window}(x_t - xbar)
        (CLM 1997 eq. 4.4.14 written for centred regressors); the last two terms are
        dropped when the mean or slopes are not estimated.
        """
        length = float(window.sum())
        factor = np.full(len(self.alpha), length)
        if self.mean_estimated:
            factor = factor + length**2 / self.n_obs
        if self.xtx_inv is not None:
            s = (X[:, window, :] - self.xbar[:, None, :]).sum(axis=1)
            factor = factor + np.einsum("pk,pkj,pj->p", s, self.xtx_inv, s)
        return self.sigma2 * factor


def fit_normal_returns(model: str, y: np.ndarray, X: np.ndarray, usable: np.ndarray, min_obs: int) -> NormalFit:
    """Fit ``model`` on estimation rows: y (P, L), X (P, L, k), usable (P, L) bool."""
    if model not in MODELS:
        raise ImpactError(f"unknown model {model!r} (choose from {', '.join(MODELS)})")
    P, _, k = X.shape
    w = usable.astype(float)
    n = w.sum(axis=1)
    problem = np.full(P, "", dtype=object)
    n_params = {"market": 1 + k, "constant_mean": 1, "market_adjusted": 0, "raw": 0}[model]
    need = max(min_obs, n_params + 2)
    few = n < need
    problem[few] = [f"too few estimation observations: {int(v)} < {need}" for v in n[few]]
    n_safe = np.where(n > 0, n, 1.0)
    y0 = np.where(usable, y, 0.0)
    X0 = np.where(usable[:, :, None], X, 0.0)
    ybar = y0.sum(axis=1) / n_safe
    xbar = X0.sum(axis=1) / n_safe[:, None]

    xtx_inv = None
    if model == "market":
        Xc = np.where(usable[:, :, None], X - xbar[:, None, :], 0.0)
        yc = np.where(usable, y - ybar[:, None], 0.0)
        xtx = np.einsum("plk,plj->pkj", Xc, Xc)
        xty = np.einsum("plk,pl->pk", Xc, yc)
        # A regressor with no variation in the window cannot identify beta.
        scale = np.einsum("pkk->pk", xtx)
        flat = (scale <= 1e-14 * np.maximum(n_safe[:, None], 1)).any(axis=1) & ~few
        problem[flat] = "benchmark returns constant over the estimation window"
        xtx_safe = np.where((flat | few)[:, None, None], np.eye(k), xtx)
        xtx_inv = np.linalg.inv(xtx_safe)
        beta = np.einsum("pkj,pj->pk", xtx_inv, xty)
        alpha = ybar - np.einsum("pk,pk->p", xbar, beta)
        mean_estimated = True
    elif model == "constant_mean":
        beta = np.zeros((P, k))
        alpha = ybar
        mean_estimated = True
    elif model == "market_adjusted":
        beta = np.ones((P, k))
        alpha = np.zeros(P)
        mean_estimated = False
    else:  # raw
        beta = np.zeros((P, k))
        alpha = np.zeros(P)
        mean_estimated = False

    resid = np.where(usable, y - alpha[:, None] - np.einsum("plk,pk->pl", X0, beta), 0.0)
    if mean_estimated:
        ssr = (resid**2).sum(axis=1)
    else:  # sample variance of the estimation ARs (demeaned)
        rbar = resid.sum(axis=1) / n_safe
        ssr = (np.where(usable, resid - rbar[:, None], 0.0) ** 2).sum(axis=1)
    df = n - max(n_params, 1)
    sigma2 = ssr / np.where(df > 0, df, np.nan)
    bad = np.asarray(problem != "")
    for arr in (alpha, sigma2):
        arr[bad] = np.nan
    beta = beta.astype(float)
    beta[bad] = np.nan
    zero_var = (sigma2 <= 0) & ~bad
    problem[zero_var] = "zero residual variance in the estimation window (asset equals its benchmark?)"
    return NormalFit(model, alpha, beta, sigma2, n.astype(int), df.astype(int), xbar, xtx_inv,
                     mean_estimated, problem)
