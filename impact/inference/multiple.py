"""Multiple-testing adjustment of per-pair p-values within families of tests.

A policy announcement tested on twenty assets is twenty tests: at 5% one of them is
expected to be "significant" by chance. The p-values of one family (all assets of an
event, all events of an asset, or every pair) are adjusted together with
:func:`statsmodels.stats.multitest.multipletests`:

* ``"holm"`` (Holm 1979), controls the family-wise error rate: with the m p-values
  sorted, p_(1) <= ... <= p_(m), p~_(j) = max_{k <= j} min(1, (m - k + 1) p_(k));
* ``"bonferroni"``: p~ = min(1, m p), the cruder FWER bound Holm improves on;
* ``"bh"`` (Benjamini & Hochberg 1995), controls the false discovery rate:
  p~_(j) = min_{k >= j} min(1, m p_(k) / k).

Missing p-values (NaN) stay NaN and are not counted in m.

References: Holm, S. (1979), "A simple sequentially rejective multiple test
procedure", Scandinavian Journal of Statistics 6(2); Benjamini, Y. & Hochberg, Y.
(1995), "Controlling the false discovery rate", JRSS B 57(1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..errors import ImpactError
from ..study.extensions import extend
from ..study.windows import Window

#: Our method names -> statsmodels' multipletests names.
METHODS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni"}
FAMILIES = ("event_id", "asset", None)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ImpactError(f"unknown adjustment method {method!r} (choose from {', '.join(METHODS)})")
    return METHODS[method]


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values of one family; NaN stays NaN and is not counted."""
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def adjust_pvalues(frame: pd.DataFrame, column: str = "p_value", method: str = "holm",
                   by: str | None = None) -> pd.DataFrame:
    """``frame`` with ``p_adjusted``: the p-values in ``column`` adjusted within each group of
    ``by`` (a column name; None: the whole frame is one family) by Holm (1979),
    Benjamini & Hochberg (1995, ``"bh"``) or Bonferroni."""
    name = _check_method(method)
    if column not in frame.columns:
        raise ImpactError(f"no p-value column {column!r} in the frame (columns: {', '.join(map(str, frame.columns))})")
    if by is not None and by not in frame.columns:
        raise ImpactError(f"cannot adjust by {by!r}: not a column of the frame")
    p = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ImpactError(f"column {column!r} holds values outside [0, 1]; are these p-values?")
    adjusted = np.full(len(p), np.nan)
    if by is None:
        adjusted = _adjust(p, name)
    else:
        codes = pd.factorize(frame[by], use_na_sentinel=False)[0]
        for g in np.unique(codes):
            rows = np.flatnonzero(codes == g)
            adjusted[rows] = _adjust(p[rows], name)
    return frame.assign(p_adjusted=adjusted)


def adjusted_car(result, window: Window = (-1, 1), method: str = "holm", family: str | None = "event_id") -> pd.DataFrame:
    """Per-pair CAR tests (:meth:`EventStudyResult.car`) with ``p_adjusted`` within each family:
    ``"event_id"`` all assets of one event, ``"asset"`` all events of one asset, None all
    pairs (Holm 1979; Benjamini & Hochberg 1995). Adds ``method`` and ``family`` (``"all"``
    for None)."""
    _check_method(method)
    if family not in FAMILIES:
        raise ImpactError(f"unknown family {family!r} (choose from event_id, asset, None)")
    out = adjust_pvalues(result.car(window), "p_value", method, family)
    return out.assign(method=method, family=family if family is not None else "all")


extend("adjusted", adjusted_car)  # result.adjusted(): per-pair CAR tests adjusted within families
