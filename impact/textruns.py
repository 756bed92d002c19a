"""Texts of consecutive runs of strings, joined in one pass.

Per-group ``sep.join`` through pandas (``groupby(...).agg(";".join)``) costs a Python call,
a slice and a Series per group; with a million groups that is most of a run. Here the
values are joined once and each run's text is a slice of the one string, so the cost is one
C-level join plus one slice per run (used for the contamination flags and the bundles).
"""
from __future__ import annotations

import numpy as np


def join_runs(values, lengths, sep: str) -> list[str]:
    """``sep.join`` of each run of ``lengths[k]`` consecutive ``values`` (strings, in order;
    the lengths sum to ``len(values)``; a run of length 0 gives ``""``)."""
    values = list(values)
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(values) != int(lengths.sum()):
        raise ValueError(f"run lengths sum to {int(lengths.sum())}, not to the {len(values)} values")
    text = sep.join(values)
    # Where the m-th value starts in `text` (m = 0..n): lengths so far, plus a separator after each.
    at = np.r_[0, np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)) + len(sep))]
    before = np.cumsum(lengths) - lengths
    start = at[before]
    stop = np.where(lengths > 0, at[before + lengths] - len(sep), start)
    return [text[a:b] for a, b in zip(start.tolist(), stop.tolist())]
