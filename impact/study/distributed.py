"""Engine "dask": the batched fit, and placebo draws, on a ``dask.distributed`` cluster.

Pairs are partitioned by their day-0 date, whole dates per partition (the tests across
assets need every asset of a date together), each partition is fitted on a worker by the
same function as the local loop (:func:`impact.study.chunks.fit_pairs`) and the pieces are
put back in the local order, so the result is the local engine's, number for number.
``dask`` is optional (``pip install 'impact[dask]'``): it is imported only when no client is given.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ImpactError
from .chunks import Fitted, StackedRows, fit_pairs, join

INSTALL = "pip install 'impact[dask]'"


def dask_client(client=None):
    """The given client (anything with ``scatter``, ``submit`` and ``gather``), else the running default one."""
    if client is not None:
        if not all(callable(getattr(client, name, None)) for name in ("scatter", "submit", "gather")):
            raise ImpactError(f"client must be a dask.distributed Client, got {type(client).__name__}")
        return client
    try:
        from distributed import get_client  # optional extra, imported where used
    except ImportError:
        raise ImpactError(f"engine='dask' needs dask.distributed: {INSTALL}") from None
    try:
        return get_client()
    except ValueError:
        raise ImpactError("engine='dask': no Dask client is running; pass fit(client=Client('tcp://scheduler:8786')) "
                          "or start a local one with Client()") from None


def date_partitions(day0: np.ndarray, size: int) -> list[np.ndarray]:
    """Positions of ``day0`` (one date per pair) in groups of whole dates, about ``size`` pairs
    each (a date with more pairs is one partition), each group in ascending order."""
    if not len(day0):
        return []
    dates, code = np.unique(day0, return_inverse=True)
    counts = np.bincount(code, minlength=len(dates))
    # cut after the date where the running count first passes the next multiple of size
    group = np.zeros(len(dates), dtype=np.int64)
    filled = 0
    for d, n in enumerate(counts):
        if filled and filled + n > size:
            group[d:] += 1
            filled = 0
        filled += n
    return [np.flatnonzero(g) for g in (group[code] == i for i in range(group[-1] + 1))]


def map_shared(client, func: Callable, shared, pieces: Sequence[tuple], *args) -> list:
    """``[func(shared, *piece, *args) for piece in pieces]`` on the cluster, ``shared`` sent once to every worker."""
    shared = client.scatter(shared, broadcast=True)
    return client.gather([client.submit(func, shared, *piece, *args, pure=False) for piece in pieces])


def fit_distributed(client, rows: StackedRows, index: np.ndarray, pos: np.ndarray, models, flags: np.ndarray,
                    day0: np.ndarray, chunk_size: int, partition_size: int) -> Fitted:
    """:func:`fit_pairs` of pairs ``index`` on the workers, by partitions of whole day-0 dates,
    returned in the order of ``index`` (the local engine's)."""
    parts = date_partitions(day0, partition_size)
    pieces = [(index[p], pos[p], models if isinstance(models, str) else models[p], flags[p]) for p in parts]
    done = join(map_shared(client, fit_pairs, rows, pieces, chunk_size), rows)
    order, kept_order = np.argsort(done.index, kind="stable"), np.argsort(done.kept, kind="stable")
    return Fitted(done.index[order], done.reasons[order], done.flags[order],
                  done.fit.take(kept_order) if done.fit is not None else None,
                  done.ar[kept_order], done.xev[kept_order], done.n_masked[kept_order], done.kept_mask[order])
