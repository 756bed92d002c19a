"""Per-pair texts made in bulk: runs of strings joined in one pass, and columns of one text.

Per-group ``sep.join`` through pandas (``groupby(...).agg(";".join)``) costs a Python call,
a slice and a Series per group; with a million groups that is most of a run. Here the
values are joined once and each run's text is a slice of the one string, so the cost is one
C-level join plus one slice per run (used for the contamination flags and the bundles).

A million pairs also carry texts that are mostly one value ("" for no reason, the window's
label): :func:`empty_texts` and :func:`repeated_text` make those without a per-row step.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa  # pandas' own text storage (pandas imports it already: no start-up cost)


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


def empty_texts(n: int) -> np.ndarray:
    """(n,) object array of "" (per-pair notes before any is written). Filled by assignment:
    ``np.full`` converts its fill value for every element, ~4x slower at a million."""
    out = np.empty(n, dtype=object)
    out[:] = ""
    return out


#: What pandas makes of a column of texts (its default string dtype).
TEXT_DTYPE = pd.Series([""]).dtype


def repeated_text(value: str, n: int):
    """A pandas text column (array) of ``value`` n times, as pandas would store it. With Arrow
    storage its buffers are written directly: pandas' broadcast of a scalar takes the one
    value n times through Arrow's general ``take``, ~5-10x slower at a million rows."""
    if getattr(TEXT_DTYPE, "storage", None) != "pyarrow":
        return pd.array(np.full(n, value, dtype=object), dtype=TEXT_DTYPE)
    data = value.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    text = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])
    return pd.array(text, dtype=TEXT_DTYPE)
