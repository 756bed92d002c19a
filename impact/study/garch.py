"""GARCH(1,1) across rows left out of estimation (another event's window, a roll day, a
return spanning a gap, a missing close).

The estimation window of a pair is a run of *sessions*; some of them carry no usable
return. Fitting the model on the usable rows pushed together (what the package did
before) treats the session after a hole as the day after the session before it, so the
variance recursion runs straight across the hole. Feeding the left-out return instead
would let an excluded shock (another announcement, a contract roll) inflate the
following days' variance — the contamination the exclusion exists to remove.

The rule here (the usual treatment of missing observations in a GARCH likelihood; e.g.
the state-space handling of gaps in Harvey 1989, ch. 3.4, applied to Bollerslev's 1986
recursion): a row without a usable return

* contributes nothing to the likelihood, and
* advances the variance with the *expected* squared shock in place of the unobserved
  one, E[e_t^2 | past] = h_t, so h_{t+1} = omega + (a + b) h_t — exactly the model's own
  multi-step forecast across the hole. Calendar time passes and volatility reverts to
  its mean at the model's speed; no information is invented (a zero shock would be
  information of calm and understate the variance).

The recursion starts at the first usable row (arch's backcast from the first usable
residuals) and ends at the estimation window's last row, usable or not, so the event
days' forecast horizons count sessions exactly. Without a missing row inside that span
the fit is ``arch``'s own, unchanged; with one, the same ``arch`` mean model, optimiser
and robust (Bollerslev-Wooldridge) covariance run with the two components below.
"""
from __future__ import annotations

import numpy as np

try:  # optional extra impact[garch]; models.fit_garch names the missing package
    from arch.univariate import GARCH, LS, Normal, ZeroMean
except ImportError:  # pragma: no cover - exercised only without the extra
    GARCH = Normal = LS = ZeroMean = object  # type: ignore[misc,assignment]


def _bounded(h: float, bounds: np.ndarray) -> float:
    """arch's guard on a variance (recursions.bounds_check): floor at the lower bound, a
    logarithmic damping above the upper one."""
    if h < bounds[0]:
        return float(bounds[0])
    if h > bounds[1]:
        return float(bounds[1] + np.log(h / bounds[1])) if np.isfinite(h) else float(bounds[1] + 1000)
    return h


class GappedGARCH(GARCH):
    """GARCH(1,1) whose recursion steps over unobserved rows with h_t in place of e_t^2."""

    def __init__(self, observed: np.ndarray) -> None:
        super().__init__(p=1, o=0, q=1)
        self.observed = np.asarray(observed, dtype=bool)

    def compute_variance(self, parameters, resids, sigma2, backcast, var_bounds):
        omega, a, b = (float(v) for v in parameters)
        shock = np.asarray(resids, dtype=float) ** 2
        observed = self.observed
        h = _bounded(omega + a * backcast + b * backcast, var_bounds[0])
        sigma2[0] = h
        for t in range(1, len(sigma2)):
            s = shock[t - 1] if observed[t - 1] else h
            h = _bounded(omega + a * s + b * h, var_bounds[t])
            sigma2[t] = h
        return sigma2

    # Starting values, backcast and bounds from the observed residuals only (arch's own rules).
    def starting_values(self, resids):
        return GARCH().starting_values(np.asarray(resids)[self.observed])

    def backcast(self, resids):
        return GARCH().backcast(np.asarray(resids)[self.observed])

    def bounds(self, resids):
        return GARCH().bounds(np.asarray(resids)[self.observed])

    def variance_bounds(self, resids, power: float = 2.0):
        inner = GARCH().variance_bounds(np.asarray(resids)[self.observed], power)
        # a missing row takes the bounds of the last observed row before it
        return np.ascontiguousarray(inner[np.maximum(np.cumsum(self.observed) - 1, 0)])


class GappedNormal(Normal):
    """The normal log-likelihood of the observed rows; unobserved rows contribute 0."""

    def __init__(self, observed: np.ndarray) -> None:
        super().__init__()
        self.observed = np.asarray(observed, dtype=bool)

    def loglikelihood(self, parameters, resids, sigma2, individual=False):
        lls = np.where(self.observed, super().loglikelihood(parameters, resids, sigma2, True), 0.0)
        return lls if individual else float(lls.sum())


def fit_gapped(y: np.ndarray, x: np.ndarray | None, observed: np.ndarray):
    """``arch``'s LS mean model (``x`` (n, k)), or its zero mean (``x=None``, for residuals),
    with GARCH(1,1) normal errors on the rows y (n,) (already scaled), ``observed`` (n,)
    marking usable rows (the first must be usable). Unobserved rows are filled with the
    observed means, a point on the OLS line, so arch's OLS starting values are those of the
    observed rows and the filled values never enter the likelihood. Returns arch's result
    (``convergence_flag``, ``params``, ``param_cov``, ``resid``, ``conditional_volatility``
    over all n rows)."""
    observed = np.asarray(observed, dtype=bool)
    vol, dist = GappedGARCH(observed), GappedNormal(observed)
    model: ZeroMean | LS
    if x is None:
        model = ZeroMean(np.where(observed, y, 0.0), volatility=vol, distribution=dist, rescale=False)
    else:
        yf = np.where(observed, y, y[observed].mean())
        xf = np.where(observed[:, None], x, x[observed].mean(axis=0))
        model = LS(yf, xf, volatility=vol, distribution=dist, rescale=False)
    return model.fit(disp="off", show_warning=False)


def variance_forecasts(params: np.ndarray, last_resid: float, last_h: float, last_observed: bool,
                       horizon: int) -> np.ndarray:
    """h-step conditional variances h_{T+1..T+horizon} from the last row T of the recursion:
    h_{T+1} = omega + a s_T + b h_T with s_T = e_T^2 (h_T when row T is unobserved), then
    h_{T+j} = omega + (a + b) h_{T+j-1} (Bollerslev 1986; arch's analytic forecast)."""
    omega, a, b = (float(v) for v in params)
    s = last_resid**2 if last_observed else last_h
    out = np.empty(horizon)
    out[0] = omega + a * s + b * last_h
    for j in range(1, horizon):
        out[j] = omega + (a + b) * out[j - 1]
    return out
