"""Tests of buy-and-hold abnormal returns across pairs (``result.bhar_tests(window)``).

BHARs are right-skewed (compounding), which biases the ordinary t towards rejecting
negative effects and missing positive ones. Lyon, Barber & Tsai (1999, eqs. 5-6):

    S = mean(BHAR) / sd(BHAR),   γ = Σ (BHAR_i − mean)³ / (n sd³),
    t_sa = √n (S + γ S² / 3 + γ / (6n)),

and its bootstrap: B resamples of size n/4 (their choice), each centred on the sample
mean, give t_sa^b; the p-value is two-sided from their distribution,
2 · min(P(t_sa^b ≤ t_sa), P(t_sa^b ≥ t_sa)). The cross-sectional t is reported beside it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..study.extensions import extend
from ..study.statistics import cross_sectional_t
from ..study.windows import Window


def skewness_adjusted_t(x: np.ndarray) -> float:
    """Lyon, Barber & Tsai's (1999) t_sa of the mean of ``x`` (NaN for fewer than 3 values)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 3:
        return np.nan
    sd = x.std(ddof=1)
    if sd == 0:
        return np.nan
    s = x.mean() / sd
    gamma = np.sum((x - x.mean()) ** 3) / (n * sd ** 3)
    return float(np.sqrt(n) * (s + gamma * s ** 2 / 3 + gamma / (6 * n)))


def bhar_tests(result, window: Window | None = None, draws: int = 999, seed: int = 0) -> pd.DataFrame:
    """One row: ``n, mean_bhar, median_bhar, skewness, t_cs, p_cs, t_sa, p_sa_boot, draws, seed``."""
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ImpactError(f"draws must be a positive whole number, got {draws!r}")
    table = result.bhar(window)
    x = table["bhar"].to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 3:
        raise ImpactError(f"BHAR tests need at least 3 pairs with a BHAR, got {n}")
    cs = cross_sectional_t(pd.Series(x))
    t_sa = skewness_adjusted_t(x)
    rng = np.random.default_rng(seed)
    size = max(3, n // 4)
    centred = x - x.mean()
    boot = np.array([skewness_adjusted_t(centred[rng.integers(0, n, size)]) for _ in range(draws)])
    boot = boot[np.isfinite(boot)]
    p = 2 * min(np.mean(boot <= t_sa), np.mean(boot >= t_sa)) if len(boot) else np.nan
    sd = x.std(ddof=1)
    return pd.DataFrame([{
        "window": table["window"].iloc[0], "n": n, "mean_bhar": x.mean(), "median_bhar": float(np.median(x)),
        "skewness": np.sum((x - x.mean()) ** 3) / (n * sd ** 3) if sd > 0 else np.nan,
        "t_cs": cs["t"], "p_cs": cs["p_value"], "t_sa": t_sa, "p_sa_boot": min(1.0, p), "draws": len(boot),
        "seed": seed,
    }])


extend("bhar_tests", bhar_tests)  # result.bhar_tests(window)
