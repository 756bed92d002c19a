"""Argument types and terminal tables shared by the command groups."""
from __future__ import annotations

import argparse
import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser's argument types need no pandas (start-up time)
    import pandas as pd

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


#: Human tables fit this many columns unless the terminal is wider or ``--wide`` is given.
TABLE_WIDTH = 100


def terminal_width() -> int:
    """The terminal's width, at least :data:`TABLE_WIDTH` (pipes and CI report 80)."""
    return max(TABLE_WIDTH, shutil.get_terminal_size((TABLE_WIDTH, 24)).columns)


def text_table(frame: pd.DataFrame, width: int | None = TABLE_WIDTH, fit: str | None = None) -> str:
    """A left-aligned plain-text table. Column ``fit`` (e.g. a title) gets the room the
    others leave within ``width`` and is cut with an ellipsis; ``width=None``: full text."""
    cells = frame.astype(object).where(frame.notna(), "").astype(str)
    widths = {c: max(len(str(c)), *(len(v) for v in cells[c])) if len(cells) else len(str(c)) for c in cells.columns}
    if fit is not None and width is not None and fit in widths:
        others = sum(w + 2 for c, w in widths.items() if c != fit)
        room = max(20, width - others)
        if widths[fit] > room:
            cells[fit] = cells[fit].map(lambda v: v if len(v) <= room else v[: room - 1] + "\u2026")
            widths[fit] = room
    lines = ["  ".join(str(c).ljust(widths[c]) for c in cells.columns).rstrip()]
    lines += ["  ".join(row[c].ljust(widths[c]) for c in cells.columns).rstrip() for _, row in cells.iterrows()]
    return "\n".join(lines)
