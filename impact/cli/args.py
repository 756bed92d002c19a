"""Argument types shared by the command groups."""
from __future__ import annotations

import argparse

#: Options whose value may start with "-" (a window such as -1,1).
NEGATIVE_VALUE_OPTIONS = ("--window",)


def window(text: str) -> tuple[int, int]:
    """An inclusive window of sessions ``A,B`` (``-1,1``); argparse reports a bad one
    before the command prints anything."""
    try:
        a, b = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two integers A,B such as -1,1, got {text!r}") from None
    if a > b:
        raise argparse.ArgumentTypeError(f"start {a} is after end {b}")
    return a, b


def negative_values(argv: list[str]) -> list[str]:
    """``--window -1,1`` as ``--window=-1,1``: argparse would read ``-1,1`` as an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in NEGATIVE_VALUE_OPTIONS and arg.startswith("-"):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out
