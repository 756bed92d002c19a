"""Placebo inference (placeholder, filled in below)."""
from __future__ import annotations


def placebo_test(result, window, **options):
    from .errors import ImpactError
    raise ImpactError("placebo test not implemented yet")
