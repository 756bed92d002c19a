"""Threads for the engine's block loops.

numpy releases the GIL inside its array loops, so the blocks of one pass (the prefix-sum fit's
blocks of rows, the battery's blocks of pairs) can run side by side on a machine's cores. The
results come back in block order and are combined in that order by the caller, so no number
depends on the number of threads (tests/test_parallel.py). ``IMPACT_THREADS`` sets the count
(default: the machine's cores, at most 4; 1 turns it off).
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def threads() -> int:
    """Worker threads for the block loops: ``IMPACT_THREADS`` if set, else the cores (at most 4)."""
    given = os.environ.get("IMPACT_THREADS", "").strip()
    if given:
        try:
            return max(int(given), 1)
        except ValueError:
            return 1  # an unreadable setting runs one thread, never fails a study
    return max(min(os.cpu_count() or 1, 4), 1)


def ordered_map(fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``fn`` over ``items`` on :func:`threads` threads, results yielded in the items' order
    (at most twice the threads in flight, so memory stays a few blocks')."""
    items = list(items)
    n = threads()
    if n < 2 or len(items) < 2:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(n) as pool:
        pending = deque(pool.submit(fn, item) for item in items[:2 * n])
        nxt = len(pending)
        while pending:
            result = pending.popleft().result()
            if nxt < len(items):
                pending.append(pool.submit(fn, items[nxt]))
                nxt += 1
            yield result


def run_blocks(fn: Callable[[T], object], items: Iterable[T]) -> None:
    """:func:`ordered_map` for blocks that write their own part of a shared output (nothing returned)."""
    for _ in ordered_map(fn, items):
        pass
