"""Estimation-window rows kept from a fit, gathered on demand.

The test battery needs each pair's estimation-window residuals, its usable-row
mask and the benchmark returns on those rows. Keeping (P, L) arrays for every
pair would cost memory proportional to pairs x window; instead the result keeps
the one concatenated return array the engine indexed into, plus each pair's
day-0 position, and the windows are re-gathered (fancy indexing, no per-pair
loop) only when a test asks for them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ImpactError
from ..parallel import run_blocks

Window = tuple[int, int]

#: Pairs per block of :func:`centred_day_sums`: a block's rows of every day stay in cache.
DAY_SUM_BLOCK = 1 << 16


def centred_day_sums(X: np.ndarray, xbar: np.ndarray, days: np.ndarray) -> np.ndarray:
    """sum over ``days`` of (X[:, d] - xbar) for (P, W, k) regressors ``X`` and (P, k) means, added
    day after day in the order of ``days`` (the same sums as one (P, W, k) temporary, with none), a
    block of pairs at a time on the block threads: the strided reads of a day stay in cache."""
    s = np.zeros_like(xbar)

    def block(a: int) -> None:
        b = a + DAY_SUM_BLOCK
        tmp = np.empty_like(xbar[a:b])
        for d in days:
            np.subtract(X[a:b, d], xbar[a:b], out=tmp)
            s[a:b] += tmp

    run_blocks(block, range(0, len(s), DAY_SUM_BLOCK))
    return s


@dataclass
class RowSource:
    """Concatenated per-asset rows and, per kept pair, where its day 0 sits.

    ``Y`` (n,) asset returns, ``X`` (n,) or (n, k) benchmark/regressor returns on
    the asset's rows, ``D`` (n,) dates, ``masked`` (n,) rows excluded from
    estimation; ``pos``, ``lo``, ``hi`` (P,) day-0 row and the asset's row range;
    ``R`` (n,) raw returns where they differ from ``Y`` (a factor model's excess returns);
    ``x_source``: the assets' first rows (sorted) and the first row of the asset whose regressor
    rows each one reads (the same values: assets of one market on one calendar read one asset's
    rows, which stay in cache), else None.
    """

    Y: np.ndarray
    X: np.ndarray
    D: np.ndarray
    masked: np.ndarray
    pos: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    R: np.ndarray | None = None
    x_source: tuple[np.ndarray, np.ndarray] | None = None

    def x_rows(self, pos: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """The rows to read regressors at for rows ``pos`` of the assets starting at ``lo``."""
        if self.x_source is None:
            return pos
        starts, source = self.x_source
        return pos + (source - starts)[np.searchsorted(starts, lo)]

    def gather(self, offsets: np.ndarray, dates: bool = True) -> dict[str, np.ndarray]:
        """Rows ``day0 + offsets`` for every pair.

        Returns ``y`` (P, L), ``x`` (P, L, k), ``dates`` (P, L; only when asked),
        ``inside`` (P, L: the row exists in the asset's series) and ``masked``
        (P, L); rows outside the series are NaN / NaT.
        """
        offsets = np.asarray(offsets, dtype=np.int64)
        idx = self.pos[:, None] + offsets[None, :]
        x_idx = self.x_rows(self.pos, self.lo)[:, None] + offsets[None, :]
        inside = (idx >= self.lo[:, None]) & (idx < self.hi[:, None])
        everywhere = bool(inside.all())
        if not everywhere:
            idx = np.clip(idx, 0, max(len(self.Y) - 1, 0))
            x_idx = np.clip(x_idx, 0, max(len(self.Y) - 1, 0))
        X = self.X if self.X.ndim == 2 else self.X[:, None]
        y, x, masked = self.Y[idx], X[x_idx], self.masked[idx]
        if not everywhere:
            y[~inside] = np.nan
            x[~inside] = np.nan
            masked &= inside
        out = {"y": y, "x": x, "inside": inside, "masked": masked}
        if dates:
            d = self.D[idx]
            if not everywhere:
                d[~inside] = np.datetime64("NaT")
            out["dates"] = d
        return out


def check_window(window, name: str) -> Window:
    try:
        values = list(window)
        # A float such as -260.9 is refused, not truncated to -260; booleans are not day counts.
        if len(values) != 2 or any(isinstance(v, bool) or float(v) != int(v) for v in values):
            raise ValueError
        a, b = (int(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        raise ImpactError(f"{name} must be a pair of whole numbers of sessions (start, end), got {window!r}") from None
    if a > b:
        raise ImpactError(f"{name} start {a} is after its end {b}")
    return a, b


def window_dates(D, pos, lo, hi, ea, eb):
    """First and last date of each pair's estimation window, clipped to its asset's rows."""
    top = hi - 1  # np.clip's bounds as plain minimum/maximum: the same integers, a third of the time
    return D[np.minimum(np.maximum(pos + ea, lo), top)], D[np.minimum(np.maximum(pos + eb, lo), top)]


#: The result fields :func:`rows_field` reads from the rows on first use.
ROWS_FIELDS = ("raw", "dates", "estimation_dates")


def rows_field(name: str) -> property:
    """``raw`` / ``dates`` of the event windows, or ``estimation_dates`` (first and last of each
    estimation window): the value given, or (None given, as the fit does) read from the result's
    rows on first use and kept. A million pairs' raw returns and dates are 176 MB that most
    studies never read, and their estimation dates two gathers that only ``params`` reads."""

    def get(result):
        value = result.__dict__.get(f"_{name}")
        if value is None:
            rows = result.rows
            if rows is None:
                raise ImpactError(f"this result holds no {name} and no rows to read them from")
            if name == "estimation_dates":
                value = window_dates(rows.D, rows.pos, rows.lo, rows.hi, *result.study.estimation_window)
            else:
                at = rows.pos[:, None] + result.rel_days[None, :]
                value = (rows.D if name == "dates" else rows.R if rows.R is not None else rows.Y)[at]
            result.__dict__[f"_{name}"] = value
        return value

    def put(result, value) -> None:
        result.__dict__[f"_{name}"] = value

    return property(get, put)


def taken_rows_fields(result, index: np.ndarray) -> dict[str, Any]:
    """The :func:`rows_field` values of ``result`` for pairs ``index``: taken where read, else None
    (read from the taken pairs' rows on first use)."""
    out: dict[str, Any] = {}
    for name in ROWS_FIELDS:
        value = result.__dict__.get(f"_{name}")
        out[name] = None if value is None else tuple(v[index] for v in value) if name == "estimation_dates" \
            else value[index]
    return out
