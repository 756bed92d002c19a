"""The prefix-sum engine's estimates: each pair's normal-return model from the sums of its
estimation window (:func:`impact.study.engine.fit_by_moments` makes the sums), the same OLS as
:func:`impact.study.models.fit_normal_returns` without gathering any window.
"""
from __future__ import annotations

import numpy as np

from ..errors import ImpactError
from ..textruns import empty_texts
from .models import MODELS, OLS_MODELS, NormalFit, n_parameters, solve_slopes


def fit_from_moments(model: str, n: np.ndarray, sy: np.ndarray, sx: np.ndarray, sxx: np.ndarray, sxy: np.ndarray,
                     syy: np.ndarray, shift_y: np.ndarray, shift_x: np.ndarray, min_obs: int,
                     names: tuple = ()) -> NormalFit:
    """The estimates of :func:`fit_normal_returns` from each pair's window sums.

    Inputs are sums over the pair's usable estimation rows of shifted data
    y* = y - shift_y and x* = x - shift_x (the engine shifts by the asset's mean, so
    the sums stay small and centring loses no precision): n, sum y*, sum x* (P, k),
    sum x*x*' (P, k, k), sum x*y* (P, k), sum y*^2. OLS is invariant to the shift
    except for the intercept, which is shifted back. Window sums come from
    prefix sums over each asset's rows, so the cost is O(rows + pairs), not
    O(pairs x window); results equal the window-by-window fit to rounding.
    """
    if model not in MODELS or model == "garch":
        raise ImpactError(f"fit_from_moments cannot fit model {model!r}")
    P, k = sx.shape
    problem = empty_texts(P)
    n_params = n_parameters(model, k)
    need = max(min_obs, n_params + 2)
    few = n < need
    if few.any():
        problem[few] = [f"too few estimation observations: {int(v)} < {need}" for v in n[few]]
    n_safe = np.where(n > 0, n, 1.0)
    ybar = sy / n_safe
    xbar = sx / n_safe[:, None]
    syy_c = syy - n * ybar**2
    xtx_inv = None
    bad = few  # pairs without a usable fit (the slopes' solve adds unidentified ones)
    if model in OLS_MODELS:
        xtx = sxx - n[:, None, None] * xbar[:, :, None] * xbar[:, None, :]
        xty = sxy - n[:, None] * xbar * ybar[:, None]
        scale = np.einsum("pkk->pk", xtx)  # pragma: no mutate (upper-case einsum labels give the same sum)
        # Raw second moments bound the rounding of the centred ones.
        raw_scale = np.einsum("pkk->pk", sxx)  # pragma: no mutate (upper-case einsum labels give the same sum)
        flat = (scale <= np.maximum(1e-14 * n_safe[:, None], 1e-12 * raw_scale)).any(axis=1) & ~few
        xtx_inv, beta, bad = solve_slopes(model, xtx, xty, scale, flat, few, problem)
        # no mutate below: upper-case einsum labels give the same sum
        alpha = (ybar + shift_y) - np.einsum("pk,pk->p", xbar + shift_x, beta)  # pragma: no mutate
        ssr = syy_c - np.einsum("pk,pk->p", beta, xty)  # pragma: no mutate (upper-case einsum labels give the same sum)
        mean_estimated = True
    elif model == "constant_mean":
        beta, alpha, ssr, mean_estimated = np.zeros((P, k)), ybar + shift_y, syy_c, True
    elif model == "market_adjusted":
        # d = y - x: its sample variance (the shift cancels in the centred sums).
        sd, sdd = sy - sx[:, 0], syy - 2 * sxy[:, 0] + sxx[:, 0, 0]
        beta, alpha, ssr, mean_estimated = np.ones((P, k)), np.zeros(P), sdd - sd**2 / n_safe, False
    else:  # raw
        beta, alpha, ssr, mean_estimated = np.zeros((P, k)), np.zeros(P), syy_c, False
    df = n - max(n_params, 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        sigma2 = np.maximum(ssr, 0.0) / np.where(df > 0, df, np.nan)
    alpha, beta = alpha.astype(float), beta.astype(float)  # pragma: no mutate (astype(None) is float64)
    alpha[bad], sigma2[bad] = np.nan, np.nan
    beta[bad] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
    # SSR from moments carries rounding of order eps * sum(y*^2): below that it is zero.
    tiny = ssr <= 1e-12 * np.maximum(syy, 1e-300)
    zero_var = tiny & ~bad
    problem[zero_var] = "zero residual variance in the estimation window (asset equals its benchmark?)"
    return NormalFit(model, alpha, beta, sigma2, n.astype(int), df.astype(int), xbar + shift_x, xtx_inv,
                     mean_estimated, problem, tuple(names), unusable=bad | zero_var)
