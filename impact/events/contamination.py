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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ImpactError

MODES = ("exclude", "merge", "ignore")
#: Reason prefix of the estimation exclusions this module creates.
REASON_PREFIX = "event_window:"

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
    flags: pd.Series
    reason: pd.Series
    windows: pd.DataFrame
    overlaps: pd.DataFrame
    sessions: Mapping[str, pd.DatetimeIndex]

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
) -> Contamination:
    """Find overlapping event windows and the sessions to keep out of estimation.

    ``pairs`` needs ``event_id, asset, day0`` (day 0 is placed on the first of the
    asset's ``sessions`` on or after it, as the study does); pairs without a day 0
    or whose asset has no sessions are skipped. One vectorised pass over all pairs:
    the cost is linear in pairs plus overlapping pairs.
    """
    if mode not in MODES:
        raise ImpactError(f"unknown contamination mode {mode!r} (choose from {', '.join(MODES)})")
    a, b = (int(v) for v in event_window)
    span = b - a
    flags = pd.Series("", index=pairs.index, dtype=object)
    reason = pd.Series("", index=pairs.index, dtype=object)

    # Each pair's day-0 position in its asset's sessions (-1: not placed).
    assets = pairs["asset"].astype(str).to_numpy()
    day0 = pd.DatetimeIndex(pd.to_datetime(pairs["day0"].to_numpy())).as_unit("ns").asi8
    pos = np.full(len(pairs), -1, dtype=np.int64)
    n_sessions = np.zeros(len(pairs), dtype=np.int64)
    codes, names = pd.factorize(assets)
    by_code = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[by_code], np.arange(len(names) + 1))
    for code, asset in enumerate(names):
        dates = sessions.get(asset)
        if dates is None or len(dates) == 0:
            continue
        idx = by_code[bounds[code]:bounds[code + 1]]
        d0 = day0[idx]
        ok = d0 != np.iinfo(np.int64).min
        ns = pd.DatetimeIndex(dates).as_unit("ns").asi8
        p = np.searchsorted(ns, d0, side="left")
        # As in the study: day 0 after the last session, or before the first, is not placed.
        ok &= (p < len(ns)) & ((p > 0) | (d0 == ns[0]))
        pos[idx] = np.where(ok, p, -1)
        n_sessions[idx] = len(dates)
    placed = np.flatnonzero(pos >= 0)
    ids_all = pairs["event_id"].astype(str).to_numpy()
    order = placed[np.lexsort((ids_all[placed], pos[placed], codes[placed]))]
    labels = pairs.index.to_numpy()[order]
    ids, p, code, asset = ids_all[order], pos[order], codes[order], assets[order]

    if mode != "ignore":
        windows = pd.DataFrame({"asset": asset, "event_id": ids, "start": np.clip(p + a, 0, n_sessions[order]),
                                "stop": np.clip(p + b + 1, 0, n_sessions[order])})
    else:
        windows = pd.DataFrame(columns=["asset", "event_id", "start", "stop"])

    # Overlapping windows: every (i, j > i) of one asset within `span` sessions; sorting by
    # (asset, position) makes them neighbours, and the key keeps assets apart.
    key = code.astype(np.int64) * (int(n_sessions.max(initial=0)) + span + 2) + p
    reach = np.searchsorted(key, key + span, side="right") - np.arange(len(p)) - 1
    i = np.repeat(np.arange(len(p)), reach)
    j = i + 1 + (np.arange(reach.sum()) - np.repeat(np.cumsum(reach) - reach, reach))
    gap = p[j] - p[i]
    excluded = "flagged; other window excluded from estimation"
    decision = np.full(len(i), excluded if mode != "ignore" else "flagged", dtype=object)
    merge_notes = []
    if mode == "merge":
        # An event joins the current cluster when its window overlaps the cluster's
        # *first* event's window (no chaining across a long run of news).
        head = np.arange(len(p))
        for k in range(1, len(p)):
            if code[k] == code[head[k - 1]] and p[k] - p[head[k - 1]] <= span:
                head[k] = head[k - 1]
        same = head[j] == head[i]
        decision[same] = ["merged into " + x for x in ids[head[i[same]]]]
        for k in np.unique(head[head != np.arange(len(p))]):
            members = np.flatnonzero(head == k)
            merge_notes.append((labels[k], "merged:" + "+".join(ids[members[1:]])))
            for m in members[1:]:
                reason[labels[m]] = (f"merged into {ids[k]}: event windows overlap "
                                     f"(day 0 {int(p[m] - p[k])} sessions after {ids[k]}'s)")
    overlaps = pd.DataFrame({"asset": asset[i], "event_id": ids[i], "other_id": ids[j],
                             "day0": np.zeros(len(i), dtype="datetime64[ns]"),
                             "other_day0": np.zeros(len(i), dtype="datetime64[ns]"),
                             "gap": gap, "decision": decision})
    if len(i):
        session_of = {n: pd.DatetimeIndex(sessions[n]) for n in np.unique(asset[i])}
        overlaps["day0"] = [session_of[x][y] for x, y in zip(asset[i], p[i])]
        overlaps["other_day0"] = [session_of[x][y] for x, y in zip(asset[j], p[j])]
        # Each pair's notes in order of the other event's position: i sees j at +gap, j sees i at -gap.
        notes = pd.DataFrame({
            "label": np.concatenate([labels[i], labels[j]]),
            "order": np.concatenate([p[j], p[i]]).astype(float),
            "note": [f"overlap:{x}@{g:+d}" for x, g in zip(np.concatenate([ids[j], ids[i]]),
                                                           np.concatenate([gap, -gap]))],
        })
        if merge_notes:
            notes = pd.concat([notes, pd.DataFrame({"label": [m[0] for m in merge_notes], "order": np.inf,
                                                    "note": [m[1] for m in merge_notes]})], ignore_index=True)
        notes = notes.sort_values(["label", "order"], kind="stable")
        joined = notes.groupby("label", sort=False)["note"].agg(";".join)
        flags.loc[joined.index] = joined.to_numpy()
    return Contamination(mode, flags, reason, windows, overlaps[OVERLAP_COLUMNS], sessions)
