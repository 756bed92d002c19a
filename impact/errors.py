"""Exceptions raised for bad input. Each message names the problem in one line."""
from __future__ import annotations

import errno
import os


class ImpactError(ValueError):
    """Base class: bad input a user can fix (file, row, field or symbol is named)."""


class CatalogError(ImpactError):
    """A malformed event catalog. ``problems`` lists every defect found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        head = self.problems[0] if self.problems else "invalid catalog"
        more = f" (+{len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(head + more)

    def report(self) -> str:
        """All problems, one per line."""
        return "\n".join(self.problems)


class DataError(ImpactError):
    """Prices or returns that cannot be used: unknown symbol, bad layout, bad values."""


class SpecError(ImpactError):
    """An invalid report or study specification (the field is named)."""


class OutputError(ImpactError):
    """An output folder that cannot be written (the folder, the reason and the fix are named)."""


#: errno -> (what went wrong, how to fix it), worded to follow a path.
_OS_REASONS = {
    errno.ENOSPC: ("no space left on device", "free some disk space or write somewhere else"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write somewhere else"),
    errno.EACCES: ("permission denied", "fix its permissions or use another path"),
    errno.EPERM: ("operation not permitted", "fix its permissions or use another path"),
    errno.EROFS: ("read-only file system", "use a path on a writable disk"),
    errno.EISDIR: ("is a folder, not a file", "give the path of a file"),
    errno.ENOTDIR: ("a part of this path is a file, not a folder", "remove that file or use another path"),
    errno.EEXIST: ("exists but is not a usable folder", "remove it or use another path"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ENAMETOOLONG: ("file name too long", "use a shorter path"),
}


def os_error_reason(exc: OSError) -> str:
    """What went wrong and the fix, ``<reason>: <fix>``, for an OSError (no path)."""
    reason, fix = _OS_REASONS.get(exc.errno or 0, (exc.strerror or str(exc) or type(exc).__name__,
                                              "check the path and try again"))
    return f"{reason}: {fix}"


def os_error_message(exc: OSError, path: str | os.PathLike | None = None) -> str:
    """One line for an OSError: ``<path>: <reason>: <fix>`` (``path`` if the error names none)."""
    where = exc.filename if exc.filename is not None else path
    return f"{where}: {os_error_reason(exc)}" if where is not None else os_error_reason(exc)
