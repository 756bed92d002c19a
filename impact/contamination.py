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

from .errors import ImpactError

MODES = ("exclude", "merge", "ignore")
#: Reason prefix of the estimation exclusions this module creates.
REASON_PREFIX = "event_window:"

OVERLAP_COLUMNS = ["asset", "event_id", "other_id", "day0", "other_day0", "gap", "decision"]


@dataclass
class Contamination:
    """Result of :func:`contamination`.

    ``flags``: per input pair (same index), the ';'-joined flags to add;
    ``reason``: per input pair, why it is dropped (merged) or ``""``;
    ``exclusions``: ``asset, date, reason`` sessions to leave out of estimation;
    ``overlaps``: one row per (asset, event, other event) whose event windows
    overlap, with the ``decision`` taken.
    """

    mode: str
    flags: pd.Series
    reason: pd.Series
    exclusions: pd.DataFrame
    overlaps: pd.DataFrame


def _join(a: str, b: str) -> str:
    return f"{a};{b}" if a and b else (a or b)


def contamination(
    pairs: pd.DataFrame,
    sessions: Mapping[str, pd.DatetimeIndex],
    event_window: tuple[int, int],
    mode: str = "exclude",
) -> Contamination:
    """Find overlapping event windows and the sessions to keep out of estimation.

    ``pairs`` needs ``event_id, asset, day0`` (day 0 is placed on the first of the
    asset's ``sessions`` on or after it, as the study does); pairs without a day 0
    or whose asset has no sessions are skipped.
    """
    if mode not in MODES:
        raise ImpactError(f"unknown contamination mode {mode!r} (choose from {', '.join(MODES)})")
    a, b = (int(v) for v in event_window)
    span = b - a
    flags = pd.Series("", index=pairs.index, dtype=object)
    reason = pd.Series("", index=pairs.index, dtype=object)
    excl_parts, overlap_rows = [], []
    for asset, idx in pairs.groupby("asset", sort=False).groups.items():
        dates = sessions.get(asset)
        if dates is None or len(dates) == 0:
            continue
        dates = pd.DatetimeIndex(dates)
        block = pairs.loc[idx]
        day0 = pd.DatetimeIndex(pd.to_datetime(block["day0"]))
        ok = ~day0.isna()
        pos = np.full(len(block), -1, dtype=np.int64)
        pos[ok] = dates.searchsorted(day0[ok], side="left")
        ok &= pos < len(dates)
        if not ok.any():
            continue
        labels = block.index.to_numpy()[ok]
        ids = block["event_id"].astype(str).to_numpy()[ok]
        p = pos[ok]
        order = np.lexsort((ids, p))
        labels, ids, p = labels[order], ids[order], p[order]

        if mode != "ignore":
            lo = np.clip(p + a, 0, len(dates))
            hi = np.clip(p + b + 1, 0, len(dates))
            rows = np.concatenate([np.arange(s, e) for s, e in zip(lo, hi)]) if len(p) else np.zeros(0, int)
            who = np.repeat(ids, hi - lo)
            excl_parts.append(pd.DataFrame({"asset": asset, "date": dates[rows],
                                            "reason": [REASON_PREFIX + w for w in who]}))

        # Overlapping windows: all pairs within `span` sessions (p is sorted).
        j_end = np.searchsorted(p, p + span, side="right")
        # Merge clusters: an event joins the current cluster when its window overlaps the
        # cluster's *first* event's window (no chaining across a long run of news).
        head = np.arange(len(p))
        for i in range(1, len(p)):
            if p[i] - p[head[i - 1]] <= span:
                head[i] = head[i - 1]
        for i in range(len(p)):
            for j in range(i + 1, j_end[i]):
                gap = int(p[j] - p[i])
                for x, y, g in ((i, j, gap), (j, i, -gap)):
                    flags[labels[x]] = _join(flags[labels[x]], f"overlap:{ids[y]}@{g:+d}")
                if mode == "merge":
                    decision = (f"merged into {ids[head[i]]}" if head[j] == head[i] else
                                "flagged; other window excluded from estimation")
                else:
                    decision = "flagged; other window excluded from estimation" if mode == "exclude" else "flagged"
                overlap_rows.append((asset, ids[i], ids[j], dates[p[i]], dates[p[j]], gap, decision))
        if mode == "merge":
            for i in range(len(p)):
                members = np.flatnonzero(head == i)
                if len(members) > 1:
                    flags[labels[i]] = _join(flags[labels[i]], "merged:" + "+".join(ids[members[1:]]))
                elif head[i] != i:
                    first = ids[head[i]]
                    reason[labels[i]] = (f"merged into {first}: event windows overlap "
                                         f"(day 0 {int(p[i] - p[head[i]])} sessions after {first}'s)")
    exclusions = (pd.concat(excl_parts, ignore_index=True) if excl_parts
                  else pd.DataFrame(columns=["asset", "date", "reason"]))
    overlaps = pd.DataFrame(overlap_rows, columns=OVERLAP_COLUMNS)
    return Contamination(mode, flags, reason, exclusions, overlaps)


def drop_own_window_flags(flags: pd.Series) -> pd.Series:
    """Remove ``event_window:...@k`` notes the study adds when a masked session lies
    in an event window: overlaps are already flagged per pair by :func:`contamination`."""
    def clean(text: str) -> str:
        return ";".join(t for t in str(text).split(";") if t and not t.startswith(REASON_PREFIX))
    return flags.map(clean)
