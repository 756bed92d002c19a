"""Event-window contamination: other announcements inside a pair's windows.

Policy news comes in clusters (the 2018 tariff rounds, April 2025), so the
estimation window of one event often holds the event window of another, and two
events can fall closer together than the event window. Left alone, the first
inflates the normal-return variance and biases alpha (MacKinlay 1997, sec. 4;
Campbell, Lo & MacKinlay 1997, sec. 4.3 recommend estimation windows free of the
event), and the second double-counts one price move in two CARs.

Decisions, all recorded:

* ``"exclude"`` (default): the event-window sessions of every *other* event of
  the same asset are left out of each estimation window (fed to
  :class:`~impact.study.EventStudy`'s ``estimation_exclusions`` with reason
  ``event_window:<id>``); pairs whose event windows overlap are flagged
  ``overlap:<other id>@<+k>`` (``k``: sessions from this day 0 to the other's).
* ``"merge"``: as ``"exclude"``, and an event whose window overlaps that of the
  first event of the current cluster on an asset is merged into it: the first pair
  is kept and flagged ``merged:<ids>``, the later ones are excluded with the reason.
  An event beyond the first event's reach starts a new cluster (no chaining).
* ``"ignore"``: estimation windows are left as they are; overlaps are still flagged.

Time is counted in the asset's own sessions (its price rows in a study, its
calendar's sessions otherwise), as in the rest of the engine. Two event windows
``[p+a, p+b]`` and ``[q+a, q+b]`` overlap iff ``|p - q| <= b - a``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..textruns import empty_texts, join_runs
from .axes import index_axes, search_by_axis, stack_axes

MODES = ("exclude", "merge", "ignore")
#: Reason prefix of the estimation exclusions this module creates.
REASON_PREFIX = "event_window:"

#: Overlap notes rendered at a time (whole pairs): bounds the note texts alive at once.
RENDER_CHUNK = 1 << 20

OVERLAP_COLUMNS = ["asset", "event_id", "other_id", "day0", "other_day0", "gap", "decision"]


@dataclass
class Contamination:
    """Result of :func:`contamination`.

    ``flags``: per input pair (same index), the ';'-joined flags to add;
    ``reason``: per input pair, why it is dropped (merged) or ``""``;
    ``windows``: one row per placed pair, ``asset, event_id, start, stop`` — the
    half-open range of positions in the asset's sessions its event window covers
    (empty in ``"ignore"`` mode); ``exclusions``: the same as ``asset, date, reason``
    sessions; ``overlaps``: one row per (asset, event, other event) whose event
    windows overlap, with the ``decision`` taken.
    """

    mode: str
    windows: pd.DataFrame
    overlaps: pd.DataFrame
    sessions: Mapping[str, pd.DatetimeIndex]
    index: pd.Index  # the input pairs' index
    #: per input pair its asset's and its event id's integer code, and the assets' names (the study
    #: reuses them for its duplicate check and day-0 placement instead of reading the texts again)
    codes: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False)
    flag_texts: np.ndarray | None = field(default=None, repr=False)  # None: no pair has a flag
    reason_texts: np.ndarray | None = field(default=None, repr=False)  # None: no pair is merged

    @property
    def flags(self) -> pd.Series:
        """Per input pair (same index), the ';'-joined flags to add ("" for none)."""
        return self._texts(self.flag_texts)

    @property
    def reason(self) -> pd.Series:
        """Per input pair, why it is dropped (merged) or ""."""
        return self._texts(self.reason_texts)

    def _texts(self, texts: np.ndarray | None) -> pd.Series:
        # a million empty texts are made only when asked for, not for every study without overlaps
        return pd.Series(empty_texts(len(self.index)) if texts is None else texts, index=self.index,
                         dtype=object)

    @property
    def exclusions(self) -> pd.DataFrame:
        """Sessions to leave out of estimation windows, one row per (event, session)."""
        w = self.windows
        if w.empty:
            return pd.DataFrame(columns=["asset", "date", "reason"])
        parts = []
        for asset, block in w.groupby("asset", sort=False):
            length = (block["stop"] - block["start"]).to_numpy()
            rows = np.repeat(block["start"].to_numpy() - np.cumsum(length) + length, length) + np.arange(length.sum())
            parts.append(pd.DataFrame({"asset": asset, "date": pd.DatetimeIndex(self.sessions[asset])[rows],
                                       "reason": REASON_PREFIX + np.repeat(block["event_id"].to_numpy(), length)}))
        return pd.concat(parts, ignore_index=True)


def contamination(
    pairs: pd.DataFrame,
    sessions: Mapping[str, pd.DatetimeIndex],
    event_window: tuple[int, int],
    mode: str = "exclude",
    by_asset: tuple[np.ndarray, np.ndarray] | None = None,
) -> Contamination:
    """Find overlapping event windows and the sessions to keep out of estimation.

    ``pairs`` needs ``event_id, asset, day0`` (day 0 is placed on the first of the
    asset's ``sessions`` on or after it, as the study does); pairs without a day 0
    or whose asset has no sessions are skipped. ``by_asset``: the pairs' asset codes and the
    assets' names (:func:`asset_codes`) when the caller has them. One sorted sweep over all pairs in
    numpy: the cost is linear in pairs plus overlapping pairs (no per-pair Python
    objects until the flags are rendered, once, at the end).
    """
    if mode not in MODES:
        raise ImpactError(f"unknown contamination mode {mode!r} (choose from {', '.join(MODES)})")
    a, b = (int(v) for v in event_window)
    span = b - a
    # Assets and ids as integer codes (a text per distinct value, not per pair); the ids' codes
    # are sorted so ranking them ranks the ids, then one integer lexsort.
    codes, names = asset_codes(pairs) if by_asset is None else by_asset
    pos, n_sessions, stacked, base, unit = _positions(pairs, sessions, codes, names)
    placed = np.flatnonzero(pos >= 0)
    id_codes, id_names = _codes(pairs["event_id"], sort=True)
    order = placed[np.lexsort((id_codes[placed], pos[placed], codes[placed]))]
    idc, p, code = id_codes[order], pos[order], codes[order]

    if mode != "ignore":
        windows = pd.DataFrame({"asset": _take(names, code), "event_id": _take(id_names, idc),
                                "start": np.clip(p + a, 0, n_sessions[order]),
                                "stop": np.clip(p + b + 1, 0, n_sessions[order])})
    else:
        windows = pd.DataFrame(columns=["asset", "event_id", "start", "stop"])

    # Overlapping windows: every (i, j > i) of one asset within `span` sessions; sorting by
    # (asset, position) makes them neighbours, and the key keeps assets apart.
    key = code.astype(np.int64) * (int(n_sessions.max(initial=0)) + span + 2) + p
    # Only a window whose next neighbour lies within `span` reaches any: searched for those alone.
    near = np.flatnonzero(np.diff(key) <= span)
    reach = np.zeros(len(p), dtype=np.int64)
    reach[near] = np.searchsorted(key, key[near] + span, side="right") - near - 1
    i = np.repeat(np.arange(len(p)), reach)
    j = i + 1 + (np.arange(reach.sum()) - np.repeat(np.cumsum(reach) - reach, reach))
    gap = p[j] - p[i]
    decision = np.full(len(i), "flagged; other window excluded from estimation" if mode != "ignore" else "flagged",
                       dtype=object)
    reason = empty_texts(len(pairs)) if len(i) and mode == "merge" else None
    merges: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    if reason is not None:
        merges = _merge(key, span, id_names[idc], p, order, i, j, decision, reason)
    day0_i, day0_j = (stacked[base[code[m]] + p[m]] for m in (i, j))
    overlaps = pd.DataFrame({"asset": _take(names, code[i]), "event_id": _take(id_names, idc[i]),
                             "other_id": _take(id_names, idc[j]), "day0": _dates(day0_i, unit),
                             "other_day0": _dates(day0_j, unit), "gap": gap,
                             "decision": _take(*pd.factorize(decision)[::-1]) if len(i) else decision})
    flags = None
    if len(i):
        flags = empty_texts(len(pairs))
        flags[order] = _render_flags(len(p), i, j, gap, p, idc, id_names, span, merges)
    return Contamination(mode, windows, overlaps[OVERLAP_COLUMNS], sessions, pairs.index, (codes, names, id_codes),
                         flags, reason)


def _positions(pairs: pd.DataFrame, sessions: Mapping[str, pd.DatetimeIndex], codes: np.ndarray,
               names) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Each pair's day-0 position in its asset's sessions (-1: not placed), its asset's number of
    sessions, every asset's sessions as int64 ns stacked (asset ``c`` from ``base[c]``) and
    their finest time unit (the overlaps' day 0 columns keep it, as the sessions' own dates would)."""
    day0 = pd.DatetimeIndex(pd.to_datetime(pairs["day0"].to_numpy())).as_unit("ns").asi8
    # Assets with the same sessions share one axis: stacked and searched once. -1: no sessions,
    # read as the last (empty) entry below.
    given = [sessions.get(name) for name in names]
    axis, stacked, units = index_axes([d if d is not None and len(d) else None for d in given])
    flat, starts = stack_axes(stacked)  # starts' last entry (the total) serves axis -1, as its length 0 below
    lengths = np.r_[np.diff(starts), 0]
    first = np.array([ns[0] for ns in stacked] + [0], dtype=np.int64)
    pair_axis = axis[codes]
    q = search_by_axis(stacked, pair_axis, day0)
    n_sessions = lengths[pair_axis]
    # As in the study: day 0 after the last session, or before the first, is not placed.
    ok = (pair_axis >= 0) & (day0 != np.iinfo(np.int64).min) & (q < n_sessions) & ((q > 0) | (day0 == first[pair_axis]))
    pos = np.where(ok, q, -1)
    unit = next((u for u in ("ns", "us", "ms", "s") if u in units), "ns")
    return pos, n_sessions, flat, starts[axis], unit


def asset_codes(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The pairs' asset codes and the assets' names (as text, in order of first appearance)."""
    return _codes(pairs["asset"])


def _codes(column: pd.Series, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column's values as text and the distinct texts (object array)."""
    codes, uniques = pd.factorize(column.astype(str), sort=sort)
    return codes, np.asarray(uniques, dtype=object)


def _take(values: np.ndarray, at: np.ndarray):
    """``values[at]`` as the column pandas infers from it, converted once per distinct value and
    then taken in C, not once per row: the overlapping pairs repeat few texts."""
    return pd.Series(values).take(at).array if len(at) else values[at]


def _dates(ns: np.ndarray, unit: str) -> np.ndarray:
    return ns.astype("datetime64[ns]") if len(ns) == 0 else ns.astype("datetime64[ns]").astype(f"datetime64[{unit}]")


def _merge(key, span: int, ids, p, order, i, j, decision, reason) -> tuple[np.ndarray, np.ndarray]:
    """Clusters of ``"merge"``: an event joins the current cluster when its window overlaps the
    cluster's *first* event's window (no chaining across a long run of news); sorted by key, a
    cluster is a run ``[head, next)``. Fills ``decision`` and ``reason``; returns the heads'
    ``merged:`` notes (sorted positions, texts)."""
    head = np.arange(len(key))
    k = 0
    while k < len(key):
        stop = int(np.searchsorted(key, key[k] + span, side="right"))
        head[k:stop] = k
        k = stop
    same = head[j] == head[i]
    decision[same] = "merged into " + ids[head[i[same]]]
    members = np.flatnonzero(head != np.arange(len(key)))
    first = head[members]
    reason[order[members]] = [f"merged into {h}: event windows overlap (day 0 {g} sessions after {h}'s)"
                              for h, g in zip(ids[first], (p[members] - p[first]).tolist())]
    heads, at = np.unique(first, return_index=True)
    groups = np.split(ids[members], at[1:]) if len(members) else []
    return heads, np.array(["merged:" + "+".join(g) for g in groups], dtype=object)


def _render_flags(n: int, i, j, gap, p, idc, id_names, span: int, merges) -> np.ndarray:
    """Each placed pair's ';'-joined notes, ``overlap:<other>@<+k>`` in order of the other event's
    position (then ``merged:`` last): one prefix per event and one text per step, joined in one pass
    per :data:`RENDER_CHUNK` notes (whole pairs), so the note texts alive at once stay bounded."""
    heads, merged = merges
    owner = np.concatenate([i, j, heads])
    other = np.concatenate([j, i])
    step = np.concatenate([gap, -gap]) + span
    at = np.arange(len(owner))
    # Ties at one position keep i's notes (the later events) before j's, as a stable sort does.
    rank = np.lexsort((at, np.where(at < len(other), p[np.concatenate([other, heads])], np.iinfo(np.int64).max),
                       owner))
    del at
    owner = owner[rank]
    ends = np.flatnonzero(np.r_[owner[1:] != owner[:-1], True]) + 1  # one past each pair's last note
    prefix = np.array(["overlap:" + x + "@" for x in id_names], dtype=object)[idc]
    steps = np.array([f"{g:+d}" for g in range(-span, span + 1)], dtype=object)
    flags = empty_texts(n)
    lo = 0
    while lo < len(owner):
        hi = int(ends[min(int(np.searchsorted(ends, lo + RENDER_CHUNK)), len(ends) - 1)])
        src = rank[lo:hi]
        texts = np.empty(len(src), dtype=object)
        note = src < len(other)
        texts[note] = prefix[other[src[note]]] + steps[step[src[note]]]
        texts[~note] = merged[src[~note] - len(other)]
        runs = np.diff(np.r_[lo, ends[(ends > lo) & (ends <= hi)]])
        flags[owner[lo:hi][np.cumsum(runs) - 1]] = join_runs(texts, runs, ";")
        lo = hi
    return flags
