"""Exceptions raised for bad input. Each message names the problem in one line."""
from __future__ import annotations


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
