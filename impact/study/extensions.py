"""Verbs a later stage gives the fitted results (``test``, ``tests``, ``mvrm``, the research
verbs, intraday ``tests``): the study stage never imports a later one, so they plug in
here when :mod:`impact.inference` is imported (``import impact`` does)."""
from __future__ import annotations

from collections.abc import Callable

from ..errors import ImpactError

_EXTENSIONS: dict[str, Callable] = {}


def extend(name: str, function: Callable) -> None:
    """Offer ``function(result, ...)`` as the result's verb ``name`` (called by later stages)."""
    _EXTENSIONS[name] = function


def extension(name: str) -> Callable:
    if name not in _EXTENSIONS:  # only if impact.inference was never imported (import impact does)
        raise ImpactError(f"result.{name} needs the inference stage: import impact (or impact.inference)")
    return _EXTENSIONS[name]


def has_extension(name: str) -> bool:
    """Whether a later stage has offered the verb ``name``."""
    return name in _EXTENSIONS
