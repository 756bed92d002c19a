"""Verbs a later stage gives the fitted results (``test``, ``tests``, ``mvrm``, the research
verbs, intraday ``tests``): the study stage never imports a later one, so they plug in here.

A later stage either offers a function at once (:func:`extend`) or names the module that
offers it when imported (:func:`provide`, what :mod:`impact.inference` does): that module is
imported on the verb's first use, so ``import impact`` stays fast (start-up, issue 16) and a
verb is still there whenever a result exists (``import impact`` always runs first)."""
from __future__ import annotations

import importlib
from collections.abc import Callable

from ..errors import ImpactError

_EXTENSIONS: dict[str, Callable] = {}
_PROVIDERS: dict[str, str] = {}


def extend(name: str, function: Callable) -> None:
    """Offer ``function(result, ...)`` as the result's verb ``name`` (called by later stages)."""
    _EXTENSIONS[name] = function


def provide(name: str, module: str) -> None:
    """Name the ``module`` whose import offers the verb ``name`` through :func:`extend`."""
    _PROVIDERS[name] = module


def extension(name: str) -> Callable:
    if name not in _EXTENSIONS and name in _PROVIDERS:
        importlib.import_module(_PROVIDERS[name])  # deferred for start-up time: docs/architecture.md
    if name not in _EXTENSIONS:  # only if impact.inference never offered it
        raise ImpactError(f"result.{name} needs the inference stage: import impact (or impact.inference)")
    return _EXTENSIONS[name]


def has_extension(name: str) -> bool:
    """Whether a later stage has offered the verb ``name`` (or named the module that does)."""
    return name in _EXTENSIONS or name in _PROVIDERS
