"""Test-statistic primitives on abnormal returns (the inference stage builds on them).

Conventions: p-values are two-sided; t statistics use Student's t with the stated
degrees of freedom.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special  # the t distribution's functions themselves: scipy.stats costs start-up time

from ..parallel import run_blocks

#: From this many statistics on, p-values are computed in blocks of this size side by side on
#: the block threads (elementwise: the same bits on any number of threads).
PVALUE_BLOCK = 1 << 17


def t_pvalue(t: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value of a t statistic with ``df`` degrees of freedom."""
    t = np.asarray(t, dtype=float)
    df = np.asarray(df, dtype=float)
    if t.ndim != 1 or df.ndim > 1 or len(t) < 2 * PVALUE_BLOCK:
        return _t_pvalue(t, df)
    df = np.broadcast_to(df, t.shape)
    out = np.empty(t.shape)

    def block(a: int) -> None:
        out[a:a + PVALUE_BLOCK] = _t_pvalue(t[a:a + PVALUE_BLOCK], df[a:a + PVALUE_BLOCK])

    run_blocks(block, range(0, len(t), PVALUE_BLOCK))
    return out


def _t_pvalue(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        # stdtr(df, -|t|) is what scipy.stats.t.sf(|t|, df) evaluates (Student's t upper tail)
        return 2.0 * special.stdtr(np.where(df > 0, df, np.nan), -np.abs(t))


def cross_sectional_t(values: pd.Series) -> pd.Series:
    """Mean, cross-sectional sd (n-1), count, t = mean / (sd / sqrt(n)) and p (df n-1).

    The classic cross-sectional test of Brown & Warner (1985); it ignores
    cross-correlation between pairs that share an event date.
    """
    x = values.dropna().to_numpy(dtype=float)
    n = len(x)
    mean = x.mean() if n else np.nan
    sd = x.std(ddof=1) if n > 1 else np.nan
    t = mean / (sd / np.sqrt(n)) if n > 1 and sd > 0 else np.nan
    p = float(t_pvalue(t, n - 1)) if np.isfinite(t) else np.nan
    return pd.Series({"mean": mean, "sd": sd, "n": n, "t": t, "p_value": p})


def significance_stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""
