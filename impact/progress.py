"""Progress bars for long work (downloads, many pairs, placebo draws, report figures).

A thin wrapper over tqdm: bars go to stderr and only when stderr is a terminal, so
pipes, CI logs and notebooks executed headless stay clean; ``--quiet`` (or
:func:`set_quiet`) silences them everywhere.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_QUIET = False


def set_quiet(quiet: bool = True) -> None:
    """Silence (or re-enable) every progress bar of this process."""
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    return _QUIET


def enabled(stream=None) -> bool:
    """Whether a bar would be shown: not quiet and the stream is a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not _QUIET and bool(isatty and isatty())


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Iterate ``iterable`` with a bar on a terminal; a plain iteration otherwise."""
    if not enabled():
        yield from iterable
        return
    from tqdm import tqdm  # here, not at the top: `impact --help` imports this module (start-up time)

    with tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr) as bar:
        yield from bar


@contextmanager
def steps(total: int, desc: str = ""):
    """A bar advanced by hand (``bar.update()``) for work that is not one loop."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, leave=False, file=sys.stderr, disable=not enabled())
    try:
        yield bar
    finally:
        bar.close()
