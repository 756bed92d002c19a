"""Statistics for judging a backtest (and several tried at once).

* Bootstrap confidence interval of the mean net return per trade, resampling
  announcement dates (trades of one date move together: a cluster bootstrap,
  Cameron, Gelbach & Miller 2008) with :func:`scipy.stats.bootstrap`, percentile
  method; the statistic is the ratio ``sum of returns / number of trades`` over the
  drawn dates.
* Probabilistic Sharpe ratio (Bailey & López de Prado 2012, "The Sharpe Ratio
  Efficient Frontier", eq. 11): the probability that the true Sharpe ratio exceeds
  ``SR*`` given the estimate ``SR^`` from ``T`` returns with skewness ``g3`` and
  (non-excess) kurtosis ``g4``::

      PSR(SR*) = Phi( (SR^ - SR*) sqrt(T - 1) / sqrt(1 - g3 SR^ + (g4 - 1) / 4 SR^2) )

  with per-period (not annualised) Sharpe ratios.
* Deflated Sharpe ratio (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio",
  eq. 2 and its Appendix): PSR at ``SR0``, the expected maximum Sharpe ratio of ``N``
  trials with true Sharpe 0 and variance ``V`` of the trials' estimates::

      SR0 = sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))

  ``gamma`` the Euler-Mascheroni constant. One trial: ``SR0 = 0`` (DSR = PSR(0)).
* Turnover: notional traded (in and out, ``2 x weight`` per trade) per year of the
  backtest span. Exposure-adjusted return: total P&L per year in the market (the
  span's years times the exposure).
* Holding the asset: the long return over each trade's own sessions (no costs), so
  the rule's gross return is ``side x`` that; summed with the trades' weights.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

EULER_GAMMA = float(np.euler_gamma)
TRADING_DAYS = 252


def bootstrap_mean_ci(returns: np.ndarray, clusters: np.ndarray, *, level: float = 0.95,
                      resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile CI of the mean return per trade, resampling whole clusters (dates)."""
    x = pd.Series(np.asarray(returns, dtype=float)).groupby(np.asarray(clusters))
    sums, counts = x.sum().to_numpy(), x.count().to_numpy(dtype=float)
    if len(sums) < 2:
        return float("nan"), float("nan")
    res = stats.bootstrap((sums, counts), lambda s, c, axis=-1: s.sum(axis=axis) / c.sum(axis=axis),
                          paired=True, vectorized=True, confidence_level=level, n_resamples=resamples,
                          method="percentile", random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def sharpe_moments(returns: np.ndarray) -> dict[str, float]:
    """Per-period Sharpe ratio (sd with n - 1), skewness and non-excess kurtosis (biased
    moments, as in the papers) and the number of returns."""
    x = np.asarray(returns, dtype=float)
    n = len(x)
    sd = x.std(ddof=1) if n > 1 else np.nan
    sr = float(x.mean() / sd) if n > 1 and sd > 0 else np.nan
    skew = float(stats.skew(x)) if n > 2 and sd > 0 else np.nan
    kurt = float(stats.kurtosis(x, fisher=False)) if n > 3 and sd > 0 else np.nan
    return {"sr": sr, "skew": skew, "kurtosis": kurt, "n": n}


def probabilistic_sharpe(sr: float, n: int, skew: float, kurtosis: float, sr_star: float = 0.0) -> float:
    """PSR(SR*): P(true SR > SR*) (Bailey & López de Prado 2012, eq. 11); per-period SRs."""
    denom = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr ** 2
    if not (np.isfinite(sr) and n > 1 and np.isfinite(denom) and denom > 0):
        return float("nan")
    return float(stats.norm.cdf((sr - sr_star) * np.sqrt(n - 1) / np.sqrt(denom)))


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """SR0: expected maximum of ``n_trials`` Sharpe estimates with true value 0 and variance
    ``variance`` (Bailey & López de Prado 2014, eq. 2 via the Euler-Mascheroni approximation)."""
    if n_trials <= 1:
        return 0.0
    if not np.isfinite(variance) or variance < 0:
        return float("nan")
    z = (1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n_trials) + EULER_GAMMA * stats.norm.ppf(1 - 1 / (n_trials * np.e))
    return float(np.sqrt(variance) * z)


def deflated_sharpe(sr: float, n: int, skew: float, kurtosis: float, trial_srs, n_trials: int | None = None
                    ) -> tuple[float, float]:
    """(DSR, SR0): PSR at the expected maximum Sharpe ratio of the trials.

    ``trial_srs``: the per-period Sharpe ratios of every rule tried (this one included);
    ``n_trials`` (default: their number) may be larger when more were tried than kept.
    """
    srs = np.asarray(trial_srs, dtype=float)
    srs = srs[np.isfinite(srs)]
    n_trials = len(srs) if n_trials is None else int(n_trials)
    variance = float(srs.var(ddof=1)) if len(srs) > 1 else (0.0 if n_trials <= 1 else float("nan"))
    sr0 = expected_max_sharpe(n_trials, variance)
    return probabilistic_sharpe(sr, n, skew, kurtosis, sr0), sr0


def turnover(trades: pd.DataFrame, n_days: int) -> float:
    """Notional traded per year (in and out), in units of one trade's notional."""
    if not len(trades) or not n_days:
        return float("nan")
    return float(2.0 * trades["weight"].sum() / (n_days / TRADING_DAYS))


def exposure_adjusted_return(total_pnl: float, n_days: int, exposure: float) -> float:
    """Total P&L per year with a position on (``n_days x exposure`` weekdays)."""
    held = n_days * exposure
    return float(total_pnl / (held / TRADING_DAYS)) if held > 0 else float("nan")


def hold_returns(trades: pd.DataFrame) -> pd.Series:
    """Long return of the asset over each trade's sessions, roll-adjusted like the trade
    (``side x hold = return_gross``)."""
    return trades["return_gross"] * trades["sign"]
