"""The batched engine's array steps: each asset's model inputs, each pair's day-0 row in the stacked array of all
assets' rows, the rows left out of estimation (and the gap rows that make an event
window incomplete), and the prefix-sum fit of every pair's estimation window.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..data.factors import RF, factors_on
from ..events.axes import index_axes, search_by_axis, stack_axes
from ..parallel import run_blocks
from .chunks import finite_rows
from .models import FACTOR_MODELS, NEEDS_BENCHMARK, fit_by_model
from .moments import fit_from_moments


def stack_rows(parts: list, starts: list, n_rows: int, k: int, separate_raw: bool) -> tuple[np.ndarray, ...]:
    """Every asset's rows in one array each (``parts``: (y, x, raw, dates) per asset, placed at
    ``starts``), NaN/NaT between and after them: model returns Y, regressors X (n_rows, k), raw
    returns R (Y itself unless ``separate_raw``) and dates D. Each cell is written once.

    Consecutive assets with the same number of rows, the same room after them, one regressor
    array and one dates array (the columns of one returns frame) are written as one grid
    (asset x row), in a few array operations instead of several per asset."""
    Y = np.empty(n_rows)
    X = np.empty((n_rows, k))
    R = np.empty(n_rows) if separate_raw else Y
    D = np.empty(n_rows, dtype="datetime64[ns]")
    first = int(starts[0]) if len(parts) else n_rows
    Y[:first], X[:first], D[:first], R[:first] = np.nan, np.nan, np.datetime64("NaT"), np.nan
    for i0, i1 in _grid_runs(parts, starts, n_rows):
        n, m = len(parts[i0][0]), i1 - i0
        at, end = int(starts[i0]), int(starts[i1]) if i1 < len(parts) else n_rows
        shape = (m, (end - at) // m)  # assets x (each asset's rows and the padding after them)
        y, x, d = Y[at:end].reshape(shape), X[at:end].reshape(shape + (k,)), D[at:end].reshape(shape)
        np.stack([part[0] for part in parts[i0:i1]], out=y[:, :n])
        x[:, :n], d[:, :n] = parts[i0][1], parts[i0][3]  # one array for the run: broadcast
        y[:, n:], x[:, n:], d[:, n:] = np.nan, np.nan, np.datetime64("NaT")
        if separate_raw:
            r = R[at:end].reshape(shape)
            np.stack([part[2] for part in parts[i0:i1]], out=r[:, :n])
            r[:, n:] = np.nan
    return Y, X, R, D


def _grid_runs(parts: list, starts: list, n_rows: int) -> list[tuple[int, int]]:
    """Runs [i0, i1) of consecutive parts with equal lengths and equal room up to the next part
    (or the end), one regressor object and one dates object: each run is one grid."""
    if not parts:
        return []
    at = np.asarray(starts, dtype=np.int64)
    room = np.diff(np.r_[at, n_rows])
    key = np.array([(len(y), id(x), id(d)) for y, x, _, d in parts], dtype=np.uint64)  # ids: addresses
    new = np.r_[True, (room[1:] != room[:-1]) | (key[1:] != key[:-1]).any(axis=1)]
    edges = np.r_[np.flatnonzero(new), len(parts)]
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def regressor_sources(offsets: dict, groups: list) -> dict:
    """Per asset (``offsets``: its first stacked row), the first row of the first asset of its
    regressor group (``groups``, in ``offsets`` order): the rows its regressors are read from.
    Assets of one group hold the same regressor values, so one asset's rows serve them all."""
    first: dict = {}
    return {asset: first.setdefault(group, at) for (asset, at), group in zip(offsets.items(), groups)}


class Placement(NamedTuple):
    """Where :func:`place_day0` put each pair: its day-0 row and its asset's row range in the
    stacked rows, the pairs it could not place (their reasons written) and those moved (flagged)."""

    pos: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    unplaced: np.ndarray
    moved: np.ndarray


def place_day0(pairs: pd.DataFrame, D: np.ndarray, offsets: dict, indexes: dict, bench: dict,
               needs_bench: set, reasons: np.ndarray, flags: np.ndarray,
               asset_codes: tuple | None = None) -> Placement:
    """Each pair's day-0 row in the stacked array and its asset's row range (pos, lo, hi);
    ``indexes`` each asset's dates (its rows in ``D`` from ``offsets``); ``asset_codes`` the pairs'
    asset codes and the assets' names when known (else read from ``pairs["asset"]``).

    Pairs that cannot be placed get their reason in ``reasons``; a day 0 that is not
    an observed session moves to the next one and is flagged ``day0_moved``.
    """
    codes, uniques = asset_codes if asset_codes is not None else pd.factorize(pairs["asset"])
    names = [str(a) for a in uniques]  # a list: ten thousand look-ups below, not an Index's
    dates = [indexes[a] for a in names]
    o = np.array([offsets[a] for a in names], dtype=np.int64)
    m = np.array([len(d) for d in dates], dtype=np.int64)
    # Day-0 lookups on plain int64 nanoseconds (NaT is the minimum int64): no pandas in the loop.
    day0 = pd.DatetimeIndex(pairs["day0"]).as_unit("ns").asi8
    D_i8 = D.view(np.int64)
    # One search per distinct time axis (assets of one frame or exchange share their dates), not per asset.
    axis, axes, _ = index_axes(dates)
    p = search_by_axis(axes, axis[codes], day0)
    lo, n = o[codes], m[codes]
    pos, hi = lo + p, lo + n
    own = np.array([a in needs_bench and bench[a] == a for a in names], dtype=bool)[codes]
    for i in np.flatnonzero(own):
        reasons[i] = f"asset is its own benchmark ({pairs.at[i, 'asset']}): abnormal returns are identically zero"
    nat = ~own & (day0 == np.iinfo(np.int64).min)
    empty = ~own & ~nat & (n == 0)
    after = ~own & ~nat & ~empty & (p >= n)
    # The session found, read from the pair's axis (a few thousand dates), not from the rows of all assets.
    flat, starts = stack_axes(axes)
    at = np.minimum(starts[axis[codes]] + np.clip(p, 0, np.maximum(n - 1, 0)), max(len(flat) - 1, 0))
    found = np.where(n > 0, flat[at], day0) if len(flat) else day0
    off = ~own & ~nat & ~empty & ~after & (found != day0)
    before = off & (p == 0)
    moved = off & (p > 0)
    day = lambda v: f"{pd.Timestamp(v):%Y-%m-%d}"  # noqa: E731
    given = pairs["reason"] if "reason" in pairs.columns else None
    for i in np.flatnonzero(nat):
        reasons[i] = given.at[i] if given is not None and given.at[i] \
            else "day 0 lies after the end of the trading calendar"  # align_events states why
    for i in np.flatnonzero(empty):
        reasons[i] = f"no returns for {pairs.at[i, 'asset']} in the data"
    for i in np.flatnonzero(after):
        reasons[i] = f"no data on or after day 0 ({day(day0[i])}); series ends {day(D_i8[hi[i] - 1])}"
    for i in np.flatnonzero(before):
        reasons[i] = f"series starts {day(D_i8[lo[i]])}, after day 0 ({day(day0[i])})"
    for i in np.flatnonzero(moved):
        note = f"day0_moved:{day(day0[i])}->{day(found[i])}"
        flags[i] = f"{flags[i]};{note}" if flags[i] else note
    return Placement(pos, lo, hi, own | nat | empty | after | before, moved)


def row_masks(exclusions: pd.DataFrame | None, offsets: dict, n_rows: int, indexes: dict,
              windows: pd.DataFrame | None) -> tuple[np.ndarray, dict, np.ndarray, np.ndarray]:
    """Rows left out of estimation windows (masked), why (masked_reason: row -> text, for
    the given exclusions only, which are few: no text per row), which of
    them are flagged when they fall in an event window (noted: the given exclusions —
    roll days, gaps, the user's — not other events' windows), and which returns span
    a gap (spans_gap: such a row makes an event window incomplete)."""
    masked = np.zeros(n_rows, dtype=bool)
    masked_reason: dict = {}
    spans_gap = np.zeros(n_rows, dtype=bool)
    if exclusions is not None and len(exclusions):
        ex = exclusions
        for asset, block in ex.groupby(ex["asset"].astype(str), sort=False):
            if asset not in offsets:
                continue
            dates = indexes[asset]
            when = pd.DatetimeIndex(pd.to_datetime(block["date"]))
            p = dates.get_indexer(when)
            hit = p >= 0
            rows = offsets[asset] + p[hit]
            masked[rows] = True
            reason = block["reason"].astype(str)
            masked_reason.update(zip(rows.tolist(), reason.to_numpy()[hit].tolist()))
            spans_gap[rows] = reason.str.startswith("gap:").to_numpy()[hit]
    noted = masked.copy()  # given exclusions are flagged where they fall in an event window
    if windows is not None and len(windows):
        # Sessions inside any event window: +1 at each window start, -1 at its stop, cumulated.
        codes, names = pd.factorize(windows["asset"])
        base = np.array([offsets.get(name, -1) for name in names], dtype=np.int64)[codes]
        known = base >= 0
        start = base[known] + windows["start"].to_numpy(dtype=np.int64)[known]
        stop = base[known] + windows["stop"].to_numpy(dtype=np.int64)[known]
        edges = np.zeros(n_rows + 1, dtype=np.int32)
        np.add.at(edges, start, 1)
        np.add.at(edges, stop, -1)
        masked |= np.cumsum(edges[:n_rows], dtype=np.int32) > 0
    return masked, masked_reason, noted, spans_gap


#: Rows per block of the prefix-sum fit: its work arrays (~4 MB each) are reused block after
#: block instead of a dozen fresh arrays the size of all rows (first touches of fresh memory
#: cost more than the arithmetic), and a block's passes over them stay in the last-level cache
#: (1M pairs, 15M rows: 0.27 s with 2^19 rows, 0.30 s with 2^21 and 2^20, 0.37 s with 2^17).
BLOCK_ROWS = 1 << 19


def fit_by_moments(Y, X, masked, offsets, n_rows, pos, lo, ea, eb, names, models, min_obs: int,
                   block_rows: int | None = None, shared: tuple[np.ndarray, np.ndarray] | None = None):
    """Closed-form fits of all pairs from window sums (:func:`impact.study.moments.fit_from_moments`).

    Per asset, returns are shifted by their mean over usable rows and cumulated;
    a window's sum is the difference of two prefix sums within the asset's
    segment (its rows and the NaN padding after them), so no sum ever carries
    another asset's magnitude and rounding stays at the window's own scale.
    Segments are taken a block of whole segments at a time (``block_rows``). ``masked``: rows
    left out of estimation (None: none).

    ``shared``: per asset (in ``offsets`` order) its number of data rows and its regressors'
    group (assets of one group have the same regressor rows, e.g. one market index on one
    calendar). In a block whose assets are all of one group, with the same rows usable (the same
    events' windows left out, no gaps of their own), the regressors' sums are the same function
    of a window's place in every asset, so they are summed over one asset's rows instead of
    every asset's (what a wide-matrix fit shares); the returns' sums stay each asset's own.
    """
    k = X.shape[1]
    P = len(pos)
    block_rows = BLOCK_ROWS if block_rows is None else block_rows
    # Segments: the leading padding, then each asset's rows with the padding after them.
    starts = np.unique(np.r_[0, np.fromiter(offsets.values(), dtype=np.int64)])
    ends = np.r_[starts[1:], n_rows]
    # Per segment: its data rows and regressor group (-1: the leading padding, or not known).
    seg_rows, seg_group = np.zeros(len(starts), dtype=np.int64), np.full(len(starts), -1, dtype=np.int64)
    if shared is not None and len(offsets):
        at = np.searchsorted(starts, np.fromiter(offsets.values(), dtype=np.int64))
        seg_rows[at], seg_group[at] = shared
    sums = {"n": np.zeros(P), "y": np.zeros(P), "x": np.zeros((P, k)), "xx": np.zeros((P, k, k)),
            "xy": np.zeros((P, k)), "yy": np.zeros(P), "fm": np.zeros(P)}
    shift_y, shift_x = np.zeros(P), np.zeros((P, k))
    blocks, first = [], 0
    while first < len(starts):
        # Whole segments up to block_rows rows (a longer segment is a block of its own).
        last = max(int(np.searchsorted(ends, starts[first] + block_rows, side="right")), first + 1)
        blocks.append((first, last))
        first = last
    # Each pair's block (its asset's segment lies in one), the pairs grouped by block: the order
    # inside a block does not matter (every pair's sums are its own).
    block_of = np.searchsorted(np.array([starts[b[0]] for b in blocks], dtype=np.int64), lo, side="right") - 1
    order = np.argsort(block_of.astype(np.uint16) if len(blocks) < 1 << 16 else block_of, kind="stable")  # radix
    bounds = np.searchsorted(block_of[order], np.arange(len(blocks) + 1))

    def run(b: int) -> None:  # each block writes its own pairs' entries
        first, last = blocks[b]
        r0, r1 = int(starts[first]), int(ends[last - 1])
        sel = order[bounds[b]:bounds[b + 1]]
        if len(sel):
            _block_sums(Y[r0:r1], X[r0:r1], None if masked is None else masked[r0:r1], starts[first:last] - r0,
                        pos[sel] - r0, lo[sel] - r0, ea, eb, sel, sums, shift_y, shift_x,
                        seg_rows[first:last], seg_group[first:last])

    run_blocks(run, range(len(blocks)))  # blocks side by side on the block threads
    _SCRATCH.__dict__.pop("arrays", None)  # one thread ran them here: its work arrays are not kept
    n = np.rint(sums["n"])
    sy, sx, sxx, sxy, syy = (sums[key] for key in ("y", "x", "xx", "xy", "yy"))
    fit = fit_by_model(models, lambda m, i: fit_from_moments(
        m, n[i], sy[i], sx[i], sxx[i], sxy[i], syy[i], shift_y[i], shift_x[i], min_obs, tuple(names)))
    return fit, np.rint(sums["fm"]).astype(np.int64)


def _block_sums(Y, X, masked, starts, pos, lo, ea, eb, sel, sums, shift_y, shift_x, seg_rows, seg_group) -> None:
    """Window sums of pairs ``sel`` (rows local to the block) into ``sums``; their shifts into
    ``shift_y`` / ``shift_x``. Row-sized work arrays are this thread's, reused block after block
    (fresh memory costs more than the arithmetic on it)."""
    n_rows, k = len(Y), X.shape[1]
    uf, y0, ys, prod, x0, xs, xprod, finite_row, u = _scratch(n_rows, k)
    finite_rows(Y, X, out=finite_row)
    if masked is None:
        np.copyto(u, finite_row)
    else:
        np.greater(finite_row, masked, out=u)  # finite and not masked
    lengths = np.diff(np.r_[starts, n_rows])
    count = np.add.reduceat(u.view(np.uint8), starts, dtype=np.int32).astype(np.int64)  # int32: unbuffered
    safe = np.where(count > 0, count, 1).astype(float)
    at = np.searchsorted(starts, lo)  # each pair's asset starts a segment
    rep = _shared_segment(u, finite_row, starts, lengths, count, seg_rows, seg_group)
    not_u = ~u
    # Segment means over usable rows (the shift), spread back over each segment's rows.
    _zero_where(y0, Y, not_u)
    my = np.add.reduceat(y0, starts) / safe
    subtract_segment_means(Y, my, lengths, ys)
    if rep is None:
        _zero_where(x0, X, not_u[:, None])
        mx = np.add.reduceat(x0, starts, axis=0) / safe[:, None]
        subtract_segment_means(X, mx, lengths, xs)
    else:  # one segment's regressor rows stand for every segment's (the same rows, the same usable ones)
        r0, r1 = int(starts[rep]), int(starts[rep] + lengths[rep])
        u_rep = u[r0:r1]
        x_rep = np.where(u_rep[:, None], X[r0:r1], 0.0)
        mx = np.add.reduceat(x_rep, [0], axis=0) / safe[rep]
        np.subtract(X, mx, out=xs)
    np.copyto(ys, 0.0, where=not_u)
    np.copyto(xs, 0.0, where=not_u[:, None])
    if rep is not None:
        x_rep = xs[r0:r1]  # the representative's centred regressors, zero where not usable

    # Window [pos+ea, pos+eb] clipped to the segment start (rows before it are padding).
    a = np.maximum(pos + ea, lo)
    b = np.maximum(pos + eb + 1, lo)
    # Prefix sums are only read at window edges: sum the pieces between consecutive edges
    # (reduceat runs at memory speed, a row-by-row cumsum does not) and cumulate the pieces.
    mark = np.zeros(n_rows + 1, dtype=bool)
    mark[starts], mark[a], mark[b] = True, True, True
    edges = np.flatnonzero(mark[:n_rows])
    # A marked row's place among the edges: the marks up to it, less one (no search needed).
    rank = np.cumsum(mark.view(np.uint8), dtype=np.int32)  # int32: a block's rows, not all rows
    first_piece, at_a, at_b = rank[starts] - 1, rank[a] - 1, rank[b] - 1
    top, bottom = b > lo, a > lo  # windows that end (start) after their segment's first row

    def prefix(v):
        """Prefix sums at the edges, restarting at each segment: the previous segment's total
        is taken out at the next start, so a running sum never carries another asset's size."""
        pieces = np.add.reduceat(v, edges, axis=0)
        pieces[first_piece[1:]] -= np.add.reduceat(pieces, first_piece, axis=0)[:-1]
        out = np.empty((len(edges) + 1,) + v.shape[1:])
        out[0] = 0.0
        np.cumsum(pieces, axis=0, out=out[1:])
        return out

    def wsum(v):
        c = prefix(v)
        shape = (-1,) + (1,) * (c.ndim - 1)
        return np.where(top.reshape(shape), c[at_b], 0.0) - np.where(bottom.reshape(shape), c[at_a], 0.0)

    sums["yy"][sel] = wsum(np.multiply(ys, ys, out=prod))
    sums["xy"][sel] = wsum(np.multiply(xs, ys[:, None], out=x0))
    sums["y"][sel] = wsum(ys)
    shift_y[sel] = my[at]
    fm = finite_row & not_u  # finite rows left out of estimation (masked)
    if rep is not None:
        # Windows at the same place in each segment: sums over the representative's rows.
        ra, rb = a - lo, b - lo

        def rep_sum(v):
            c = np.zeros((len(v) + 1,) + v.shape[1:])
            np.cumsum(v, axis=0, out=c[1:])
            return c[rb] - c[ra]

        sums["n"][sel] = rep_sum(u_rep.astype(float))
        sums["x"][sel] = rep_sum(x_rep)
        sums["xx"][sel] = rep_sum(x_rep[:, :, None] * x_rep[:, None, :])
        sums["fm"][sel] = rep_sum(fm[r0:r1].astype(float))
        shift_x[sel] = mx
        return
    np.copyto(uf, u)
    sums["n"][sel] = wsum(uf)
    sums["xx"][sel] = wsum(np.multiply(xs[:, :, None], xs[:, None, :], out=xprod))
    sums["x"][sel] = wsum(xs)
    if fm.any():
        sums["fm"][sel] = wsum(fm.astype(float))
    shift_x[sel] = mx[at]


def _shared_segment(u, finite_row, starts, lengths, count, seg_rows, seg_group) -> int | None:
    """A segment whose regressor rows stand for every segment's in the block, or None. It does
    when every segment with data is of one regressor group (the same regressor rows) and of one
    length, with the same rows usable and the same rows finite (one calendar, one set of events
    left out of estimation, no gaps of its own)."""
    has = np.flatnonzero(seg_rows > 0)
    if not len(has) or seg_group[has[0]] < 0 or (seg_group[has] != seg_group[has[0]]).any() \
            or (lengths[has] != lengths[has[0]]).any() or (count[has] != count[has[0]]).any() \
            or count.sum() != count[has].sum():
        return None
    r0, width = int(starts[has[0]]), int(lengths[has[0]])
    r1 = r0 + len(has) * width
    if r1 != int(starts[has[-1]] + width):  # the segments with data are not one run
        return None
    for rows in (u, finite_row):
        grid = rows[r0:r1].reshape(len(has), width)
        if not (grid == grid[0]).all():
            return None
    return int(has[0])


def subtract_segment_means(values: np.ndarray, means: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """``out = values - np.repeat(means, lengths, axis=0)``: rows of segment ``i`` (``lengths[i]``
    consecutive rows) less ``means[i]``. Segments of one length (assets of one calendar) broadcast
    the means instead of repeating them into a new array the size of the rows."""
    if len(lengths) and (lengths == lengths[0]).all() and out.flags.c_contiguous and values.flags.c_contiguous:
        shape = (len(lengths), int(lengths[0])) + values.shape[1:]  # views of both: written in place
        np.subtract(values.reshape(shape), means[:, None], out=out.reshape(shape))
    else:
        np.subtract(values, np.repeat(means, lengths, axis=0), out=out)


_SCRATCH = threading.local()


def _scratch(n_rows: int, k: int) -> tuple[np.ndarray, ...]:
    """This thread's row-sized work arrays for :func:`_block_sums`, grown when a block needs more."""
    have = getattr(_SCRATCH, "arrays", None)
    if have is None or len(have[0]) < n_rows or have[4].shape[1] != k:
        have = _SCRATCH.arrays = (np.empty(n_rows), np.empty(n_rows), np.empty(n_rows), np.empty(n_rows),
                                  np.empty((n_rows, k)), np.empty((n_rows, k)), np.empty((n_rows, k, k)),
                                  np.empty(n_rows, dtype=bool), np.empty(n_rows, dtype=bool))
    return tuple(a[:n_rows] for a in have)


def _zero_where(out: np.ndarray, values: np.ndarray, mask: np.ndarray) -> None:
    """``out[...] = np.where(mask, 0.0, values)`` without a new array."""
    np.copyto(out, values)
    np.copyto(out, 0.0, where=mask)


def design(panel, asset: str, bench: str | None, model: str, factors: pd.DataFrame | None, width: int,
           cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str] | None]:
    """Model inputs on the asset's own rows: y (n,), regressors X (n, k), raw returns (n,),
    regressor names (None for a model that ignores its regressors). ``cache`` keeps the
    regressors of assets that share a time axis (a returns frame, one exchange): they get the
    same X object, which tells the prefix-sum fit their regressors' sums are shared."""
    ret, index = panel.column(asset)
    if model in ("constant_mean", "raw"):
        # Regressors are ignored: zeros of the study's width keep one design matrix.
        return ret, np.zeros((len(ret), width)), ret, None
    key = (bench if model in NEEDS_BENCHMARK else None)
    hit = cache.get(key)
    if model in FACTOR_MODELS:
        if hit is None or not hit[0].equals(index):
            f = factors_on(factors, index)
            names = [c for c in f.columns if c != RF]
            hit = cache[key] = (index, f[names].to_numpy(dtype=float), names,
                                f[RF].to_numpy() if RF in f.columns else None)
        _, x, names, rf = hit
        return (ret - rf if rf is not None else ret), x, ret, names
    if model in NEEDS_BENCHMARK:
        if bench == asset:
            return ret, ret[:, None], ret, [str(bench)]
        if hit is None or not hit[0].equals(index):
            hit = cache[key] = (index, panel.benchmark_on(bench, asset).to_numpy(dtype=float)[:, None])
        return ret, hit[1], ret, [str(bench)]
    return ret, np.zeros((len(ret), 1)), ret, ["none"]

