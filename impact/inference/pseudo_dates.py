"""The placebo's random pseudo-dates (see :mod:`impact.inference.placebo`), drawn once and kept compact.

Every random number is drawn up front from ``np.random.default_rng(seed)``, in one fixed order
(asset by asset for ``clusters="pair"``, cluster by cluster otherwise), so the day-0 rows of any
block of draws do not depend on how the draws are later cut into blocks or spread over Dask
workers. What is kept is small: one grid-date number per draw and cluster (the day-0 row of each
asset of the cluster is then a look-up in a per-asset table of its first session on or after
each grid date), or, for ``clusters="pair"``, one candidate number per draw and pair in the
smallest integer type that holds it. :meth:`PseudoDates.rows` expands a block of draws into day-0
rows; memory is O(draws x clusters) (or the small integers of draws x pairs) plus O(rows), never
draws x pairs x window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ImpactError

#: day-0 rows expanded at a time
BLOCK_CELLS = 4_000_000


def _allowed_positions(result, guard: int) -> dict[int, np.ndarray]:
    """Per asset (keyed by its first row ``lo``): admissible pseudo day-0 rows."""
    rows = result.rows
    ea, _ = result.study.estimation_window
    wa, wb = result.study.event_window
    out = {}
    for lo in np.unique(rows.lo):
        mine = rows.lo == lo
        hi = int(rows.hi[mine][0])
        cand = np.arange(lo - ea, hi - wb)  # estimation start and event end inside the series
        real = np.sort(rows.pos[mine])
        # keep the pseudo event window (widened by ``guard``) off every real event window:
        # no real day 0 p with cand + wa - guard <= p + wb and p + wa <= cand + wb + guard
        first = np.searchsorted(real, cand + wa - wb - guard, side="left")  # the first p not too early
        near = (first < len(real)) & (real[np.minimum(first, len(real) - 1)] <= cand + wb - wa + guard)
        out[int(lo)] = cand[~near]
    return out


def _cluster_labels(result, clusters) -> np.ndarray | None:
    """One label per pair (pairs sharing a label share their pseudo-dates), or None for "pair"."""
    if isinstance(clusters, str):
        if clusters == "pair":
            return None
        if clusters == "event":
            return result.pairs["event_id"].astype(str).to_numpy()
        raise ImpactError(f"placebo: clusters must be 'event', 'pair' or one label per pair, got {clusters!r}")
    labels = np.asarray(clusters)
    if labels.shape != (len(result.pairs),):
        raise ImpactError(f"placebo: clusters needs one label per pair ({len(result.pairs)}), got shape {labels.shape}")
    return labels


@dataclass(frozen=True)
class PseudoDates:
    """Drawn day-0 rows, compact: draw ``b``, pair ``p`` has day-0 row ``table[base[p] + idx[b, col[p]]]``."""

    table: np.ndarray  # candidate rows (pair clusters) or per asset x grid date rows (others)
    base: np.ndarray   # (P,) offset of each pair's asset in ``table``
    col: np.ndarray    # (P,) column of ``idx`` of each pair (its cluster)
    idx: np.ndarray    # (B, columns) the random draws

    def __len__(self) -> int:
        return len(self.idx)

    def block(self, b0: int, b1: int) -> PseudoDates:
        """Draws ``b0:b1`` (still compact, e.g. for a Dask task)."""
        return PseudoDates(self.table, self.base, self.col, self.idx[b0:b1])

    def rows(self, b0: int = 0, b1: int | None = None) -> np.ndarray:
        """(b, P) int64 day-0 rows of draws ``b0:b1`` (default: all)."""
        return self.table[self.base[None, :] + self.idx[b0:b1][:, self.col]]


def pseudo_dates(result, n_draws: int, seed: int = 0, guard: int = 0, clusters="event") -> PseudoDates:
    """The draws of :func:`draw_positions`, kept compact (:class:`PseudoDates`)."""
    rows = result.rows
    rng = np.random.default_rng(seed)
    allowed = _allowed_positions(result, guard)
    for lo, cand in allowed.items():
        if not len(cand):
            asset = result.pairs["asset"].iloc[int(np.flatnonzero(rows.lo == lo)[0])]
            raise ImpactError(f"placebo: {asset} has no non-event dates with a full estimation and event window")
    labels = _cluster_labels(result, clusters)
    P = len(rows.pos)
    base = np.empty(P, dtype=np.int64)
    if labels is None:
        widest = max(len(cand) for cand in allowed.values())
        idx = np.empty((n_draws, P), dtype=np.min_scalar_type(widest - 1))
        offset = 0
        for lo, cand in allowed.items():
            cols = np.flatnonzero(rows.lo == lo)
            idx[:, cols] = rng.integers(0, len(cand), size=(n_draws, len(cols)))
            base[cols] = offset
            offset += len(cand)
        return PseudoDates(np.concatenate(list(allowed.values())), base, np.arange(P), idx)
    # A common grid of calendar dates (every session of any asset); per asset, the row of
    # its first session on or after each grid date and whether that row is admissible.
    D = rows.D.view(np.int64)
    grid = np.unique(D[~np.isnat(rows.D)])
    admissible = np.zeros(len(rows.D) + 1, dtype=bool)  # assets' rows are disjoint: one mask for all
    admissible[np.concatenate(list(allowed.values()))] = True
    row_of = np.empty((len(allowed), len(grid)), dtype=np.int64)
    ok_of = np.empty((len(allowed), len(grid)), dtype=bool)
    for a, lo in enumerate(allowed):
        hi = int(rows.hi[rows.lo == lo][0])
        r = lo + np.searchsorted(D[lo:hi], grid, side="left")
        row_of[a], ok_of[a] = r, (r < hi) & admissible[np.minimum(r, len(rows.D))]
    asset = np.searchsorted(np.fromiter(allowed, dtype=np.int64, count=len(allowed)), rows.lo)
    base[:] = asset * len(grid)
    codes, uniques = pd.factorize(labels, use_na_sentinel=False)
    members = np.split(asset[np.argsort(codes, kind="stable")], np.cumsum(np.bincount(codes, minlength=len(uniques)))[:-1])
    idx = np.empty((n_draws, len(uniques)), dtype=np.min_scalar_type(len(grid) - 1))
    for c, label in enumerate(uniques):
        ok = ok_of[np.unique(members[c])].all(axis=0)
        choices = np.flatnonzero(ok)
        if not len(choices):
            raise ImpactError(f"placebo: no pseudo-date is admissible for every asset of {label} at once "
                              "(their real event windows cover every candidate); use clusters='pair'")
        idx[:, c] = choices[rng.integers(0, len(choices), size=n_draws)]
    return PseudoDates(row_of.reshape(-1), base, codes, idx)


def draw_positions(result, n_draws: int, seed: int = 0, guard: int = 0, clusters="event") -> np.ndarray:
    """(n_draws, P) random day-0 rows: one shared pseudo-date per cluster (default: per
    event), mapped to each asset's first session on or after it; ``clusters="pair"``:
    an independent row for every pair."""
    dates = pseudo_dates(result, n_draws, seed, guard, clusters)
    out = np.empty((n_draws, len(dates.base)), dtype=np.int64)
    step = max(1, BLOCK_CELLS // max(1, len(dates.base)))  # pragma: no mutate (block size: memory only)
    for b0 in range(0, n_draws, step):
        out[b0:b0 + step] = dates.rows(b0, b0 + step)
    return out
