"""The per-chunk step of the batched engine: gather a chunk of pairs' windows from the stacked
rows, check the event windows, fit the normal-return model and form the abnormal returns.

One code path for every engine: :meth:`EventStudy.fit` runs :func:`fit_pairs` on all its pairs,
the Dask engine (:mod:`impact.study.distributed`) runs the same function on partitions of pairs
on the workers, so a pair's numbers do not depend on where it was fitted.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ..parallel import ordered_map
from ..textruns import empty_texts
from .models import NormalFit, concat_fits, fit_by_model, fit_garch, fit_normal_returns


@dataclass
class StackedRows:
    """Everything a chunk reads: every asset's rows stacked and NaN-padded (``Y`` model returns,
    ``X`` (n, k) regressors, ``R`` raw returns or None when they are ``Y``, ``D`` dates), the row
    flags of :func:`impact.study.engine.row_masks`, the windows and the model settings."""

    Y: np.ndarray
    X: np.ndarray
    R: np.ndarray | None
    D: np.ndarray
    masked: np.ndarray
    masked_reason: dict
    noted: np.ndarray
    spans_gap: np.ndarray
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    model: str
    names: tuple
    min_obs: int
    any_masked: bool = field(init=False, repr=False)
    any_gap: bool = field(init=False, repr=False)  # a return spanning a gap somewhere in the rows

    def __post_init__(self) -> None:
        self.any_masked = bool(self.masked.any())
        self.any_gap = bool(self.spans_gap.any())

    # Row flags of every row, made when the window-by-window fit first asks (the prefix-sum fit
    # makes them a block at a time, on its threads).
    @cached_property
    def finite(self) -> np.ndarray:
        """Rows with a finite return and finite regressors."""
        return finite_rows(self.Y, self.X)

    @cached_property
    def usable(self) -> np.ndarray:
        """Finite rows not left out of estimation."""
        return self.finite & ~self.masked if self.any_masked else self.finite


def finite_rows(Y: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``Y`` (n,) and ``X`` (n, k) with every value finite (into ``out`` when given)."""
    out = np.isfinite(Y, out=out)
    out &= np.isfinite(X[:, 0]) if X.shape[1] == 1 else np.isfinite(X).all(axis=1)
    return out


@dataclass
class Fitted:
    """What :func:`fit_pairs` returns for pairs ``index`` (positions in the study's pairs):
    their ``reasons`` ("" = kept) and ``flags``, and for the kept ones (``index[reasons == ""]``,
    in order) the fit, abnormal returns, event-window regressors, and the
    number of estimation rows left out."""

    index: np.ndarray
    reasons: np.ndarray
    flags: np.ndarray
    fit: NormalFit | None
    ar: np.ndarray
    xev: np.ndarray
    n_masked: np.ndarray
    ok: np.ndarray | None = None  # (len(index),) bool: reasons == "" (None: read from the reasons)

    @property
    def kept_mask(self) -> np.ndarray:
        """(len(index),) True where the pair is kept (its reason is "")."""
        return self.ok if self.ok is not None else self.reasons == ""

    @property
    def kept(self) -> np.ndarray:
        return self.index[self.kept_mask]


def fit_pairs(rows: StackedRows, index: np.ndarray, pos: np.ndarray, models, flags: np.ndarray, chunk_size: int,
              moments: tuple[NormalFit, np.ndarray] | None = None,
              chunks: Callable[[Iterable], Iterable] | None = None, x_pos: np.ndarray | None = None) -> Fitted:
    """Fit pairs ``index`` (day-0 rows ``pos``, ``models`` one name or one per pair, ``flags``
    their flags so far) ``chunk_size`` at a time; ``moments`` the prefix-sum fits and masked
    counts already made for them (engine "moments"); ``chunks`` wraps the fitted chunks as
    they come (a progress bar); ``x_pos`` the rows to read regressors from (another asset's
    rows with the same regressor values, which a few thousand rows in cache serve; else ``pos``)."""
    starts = range(0, len(index), chunk_size)
    # Each chunk writes its kept pairs' arrays, on its own thread, into arrays made once, from the
    # chunk's first row; the rows of excluded pairs are squeezed out at the end (none: no copy).
    P, W, k = len(index), rows.event_window[1] - rows.event_window[0] + 1, rows.X.shape[1]
    out = Fitted(index, empty_texts(P), flags.copy(), None, np.empty((P, W)), np.empty((P, W, k)),
                 np.empty(P, dtype=np.int64), np.empty(P, dtype=bool))
    fits: list[NormalFit] = []
    written = np.zeros(P, dtype=bool)

    def fit_chunk(c0: int) -> tuple[int, int, Fitted]:
        c1 = min(c0 + chunk_size, P)
        # the chunk notes its pairs' reasons and flags in place, in its rows of ``out``
        part = _fit_chunk(rows, index[c0:c1], pos[c0:c1], models if isinstance(models, str) else models[c0:c1],
                          out.flags[c0:c1], None if moments is None else (moments[0].take(slice(c0, c1)),
                                                                           moments[1][c0:c1]), out.reasons[c0:c1],
                          None if x_pos is None else x_pos[c0:c1])
        n = len(part.n_masked)
        out.ok[c0:c1] = part.kept_mask  # type: ignore[index]  # made above
        for name in ("ar", "xev", "n_masked"):
            getattr(out, name)[c0:c0 + n] = getattr(part, name)
        written[c0:c0 + n] = True
        return c0, c1, part

    # chunks fitted side by side on the block threads
    parts = ordered_map(fit_chunk, starts)
    for _, _, part in (chunks(parts) if chunks is not None else parts):
        if part.fit is not None and moments is None:
            fits.append(part.fit)
    if not written.all():
        for name in ("ar", "xev", "n_masked"):
            setattr(out, name, getattr(out, name)[written])
    if moments is not None:  # the kept pairs' rows of the fits made before, taken once (none if all are kept)
        kept = out.kept_mask
        out.fit = moments[0] if kept.all() else moments[0].take(kept)
    else:
        out.fit = concat_fits(fits) if fits else None
    return out


def join(parts: list[Fitted], rows: StackedRows) -> Fitted:
    """Fits of consecutive groups of pairs as one (empty arrays of the right shape when none)."""
    parts = [p for p in parts if len(p.index)]
    if not parts:
        W = rows.event_window[1] - rows.event_window[0] + 1
        k = rows.X.shape[1]
        empty = np.zeros(0, dtype=object)
        return Fitted(np.zeros(0, dtype=np.int64), empty, empty, None, np.zeros((0, W)), np.zeros((0, W, k)),
                      np.zeros(0, dtype=np.int64))
    if len(parts) == 1:
        return parts[0]
    fits = [p.fit for p in parts if p.fit is not None]
    stack = {name: np.concatenate([getattr(p, name) for p in parts])
             for name in ("index", "reasons", "flags", "ar", "xev", "n_masked")}
    stack["ok"] = np.concatenate([p.kept_mask for p in parts])
    return Fitted(fit=concat_fits(fits) if fits else None, **stack)


def _fit_chunk(rows: StackedRows, s: np.ndarray, pos: np.ndarray, models, flags: np.ndarray,
               moments: tuple[NormalFit, np.ndarray] | None, reasons: np.ndarray,
               x_pos: np.ndarray | None = None) -> Fitted:
    """Fit pairs ``s``; their ``flags`` and ``reasons`` ("" each on the way in) are written in place.
    Regressors are read at ``x_pos`` (the same values as at ``pos``), else at ``pos``."""
    xp = pos if x_pos is None else x_pos
    ea, eb = rows.estimation_window
    wa, wb = rows.event_window
    Y, X, D = rows.Y, rows.X, rows.D
    L, W = eb - ea + 1, wb - wa + 1
    ev_off = np.arange(wa, wb + 1)
    any_masked = rows.any_masked
    if moments is not None:
        fit, n_masked = moments
    else:
        # Row windows as strided views: gathering a pair's window copies one contiguous run;
        # row-level flags once, then gathered as bytes: cheaper than testing every window's floats.
        finite_w = sliding_window_view(rows.finite, L)
        usable = sliding_window_view(rows.usable, L)[pos + ea]
        y_est = sliding_window_view(Y, L)[pos + ea]
        x_est = np.swapaxes(sliding_window_view(X, L, axis=0)[xp + ea], 1, 2)  # (P, L, k) view of (P, k, L) rows
        if any_masked:
            n_masked = np.count_nonzero(finite_w[pos + ea], axis=1) - np.count_nonzero(usable, axis=1)
        else:
            n_masked = np.zeros(len(s), dtype=np.int64)
        if rows.model == "garch":
            fit = fit_garch(y_est, x_est, usable, rows.min_obs, ev_off - eb, rows.names)
        else:
            fit = fit_by_model(models, lambda m, i: fit_normal_returns(m, y_est[i], x_est[i], usable[i], rows.min_obs,
                                                                       rows.names))
    ev_idx = pos[:, None] + ev_off[None, :] if any_masked or rows.any_gap else None  # rows flagged: look them up
    y_ev = sliding_window_view(Y, W)[pos + wa]
    x_ev = np.swapaxes(sliding_window_view(X, W, axis=0)[xp + wa], 1, 2)
    failed = fit.failed
    bad = failed.copy()  # pairs given a reason below, as a mask (a million texts are not compared)
    if ev_idx is not None:
        for j, kk in zip(*np.nonzero(rows.noted[ev_idx])):
            note = f"{rows.masked_reason[ev_idx[j, kk]]}@{ev_off[kk]:+d}"
            flags[j] = f"{flags[j]};{note}" if flags[j] else note
        # A return spanning a gap (a missing close) is not one session's return: the
        # window would silently hold a multi-day move, so the pair is excluded.
        for j, kk in zip(*np.nonzero(rows.spans_gap[ev_idx])):
            if not reasons[j]:
                when = pd.Timestamp(D[ev_idx[j, kk]])
                reasons[j] = (f"event window incomplete: the return at rel_day {ev_off[kk]:+d} ({when:%Y-%m-%d}) "
                              f"spans a gap ({rows.masked_reason[ev_idx[j, kk]]}); fill the missing close or "
                              "pass gap_days=False to keep it")
                bad[j] = True
    # Event windows must be complete: a missing return would silently shorten a CAR.
    ev_ok = np.isfinite(y_ev) & np.isfinite(x_ev).all(axis=2)
    for j in np.flatnonzero(~ev_ok.all(axis=1)) if not ev_ok.all() else ():
        kk = int(np.argmin(ev_ok[j]))
        day = ev_off[kk]
        if np.isnat(D[pos[j] + day]):
            edge = "before the series starts" if day < 0 else "after the series ends"
            reasons[j] = f"event window incomplete: rel_day {day:+d} falls {edge}"
        else:
            when = pd.Timestamp(D[pos[j] + day])
            reasons[j] = f"event window incomplete: missing return at rel_day {day:+d} ({when:%Y-%m-%d})"
        bad[j] = True
    for j in np.flatnonzero(failed):
        if not reasons[j]:
            reasons[j] = fit.problem[j]
    keep = ~bad
    if bad.any():  # all kept (the rule): no copy of the chunk
        fit, y_ev, x_ev, n_masked = fit.take(keep), y_ev[keep], x_ev[keep], n_masked[keep]
    # Raw returns and dates of the event window are read from the rows when asked for
    # (EventStudyResult.raw / .dates), not kept for every pair here. y_ev is a gathered copy:
    # the abnormal returns are formed in it.
    return Fitted(s, reasons, flags, fit, np.subtract(y_ev, fit.expected(x_ev), out=y_ev), x_ev, n_masked, keep)
