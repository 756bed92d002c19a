"""Distinct time axes: assets with the same sessions (one returns frame, one exchange) are
searched once, not once per asset. Used by the overlap screen and the study's day-0 placement."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def distinct_axes(axes: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """For int64 arrays ``axes``: each one's axis code (equal arrays share one; candidates found by
    length and end points, then compared) and, per code, the position of its first array."""
    code = np.zeros(len(axes), dtype=np.int64)
    firsts: list[int] = []
    by_key: dict[tuple, list[int]] = {}
    for i, values in enumerate(axes):
        key = (len(values), int(values[0]), int(values[-1])) if len(values) else (0,)
        same = next((k for k in by_key.get(key, ()) if np.array_equal(axes[firsts[k]], values)), None)
        if same is None:
            same = len(firsts)
            firsts.append(i)
            by_key.setdefault(key, []).append(same)
        code[i] = same
    return code, firsts


def index_axes(indexes: Sequence[pd.DatetimeIndex | None]) -> tuple[np.ndarray, list[np.ndarray], set[str]]:
    """:func:`distinct_axes` of session indexes as int64 nanoseconds: each entry's axis code (-1 for
    None), the distinct axes, and the indexes' time units. An index object held by several entries
    (the assets of one returns frame) is converted and compared once, not once per entry."""
    code = np.full(len(indexes), -1, dtype=np.int64)
    seen: dict[int, int] = {}  # id of an index object -> its entry in ``ns`` (the objects stay referenced)
    ns: list[np.ndarray] = []
    units: set[str] = set()
    for i, index in enumerate(indexes):
        if index is None:
            continue
        at = seen.get(id(index))
        if at is None:
            dates = index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)
            units.add(dates.unit)
            at = seen[id(index)] = len(ns)
            ns.append(dates.asi8 if dates.unit == "ns" else dates.as_unit("ns").asi8)
        code[i] = at
    of_ns, firsts = distinct_axes(ns)
    code[code >= 0] = of_ns[code[code >= 0]]
    return code, [ns[f] for f in firsts], units


def search_by_axis(axes: Sequence[np.ndarray], axis_of: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.searchsorted(axes[axis_of[i]], values[i], side="left")`` for every i, one search per
    axis; entries with ``axis_of < 0`` (no axis) get -1. Consecutive entries with the same axis
    and value (one event's pairs across the assets of a frame) are searched once."""
    n = len(values)
    if n > 1:
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
        new[1:] |= axis_of[1:] != axis_of[:-1]
        heads = np.flatnonzero(new)
        if len(heads) <= n // 2:  # runs: the heads searched, the results repeated over each run
            return np.repeat(_search_by_axis(axes, axis_of[heads], values[heads]), np.diff(np.r_[heads, n]))
    return _search_by_axis(axes, axis_of, values)


def _search_by_axis(axes: Sequence[np.ndarray], axis_of: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(axes) == 1:  # one calendar (a returns frame): one search
        return np.where(axis_of >= 0, np.searchsorted(axes[0], values, side="left"), -1)
    out = np.full(len(values), -1, dtype=np.int64)
    order = np.argsort(axis_of, kind="stable")
    bounds = np.searchsorted(axis_of[order], np.arange(len(axes) + 1))
    for k, axis in enumerate(axes):
        idx = order[bounds[k]:bounds[k + 1]]
        out[idx] = np.searchsorted(axis, values[idx], side="left")
    return out


def stack_axes(axes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct axes end to end (int64) and where each starts, with the total length last:
    entry ``i`` of axis ``k`` is ``flat[starts[k] + i]``."""
    lengths = np.array([len(a) for a in axes], dtype=np.int64)
    starts = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    return (np.concatenate(axes) if len(axes) else np.zeros(0, dtype=np.int64)), starts
