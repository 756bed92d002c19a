"""impact: event studies of policy announcements on markets.

Pipeline, one subpackage per stage (docs/architecture.md):
events -> data -> study -> inference -> report / backtest -> cli.

>>> from impact import EventStudy, load_catalog, datasets
>>> study = EventStudy(datasets.load_prices(), load_catalog(), market="GSPC")
>>> result = study.fit()
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import inference  # noqa: F401 -- names the modules that offer the fitted results' verbs (result.test, .mvrm, ...)
from .errors import CatalogError, DataError, ImpactError, SpecError
from .version import __version__

if TYPE_CHECKING:
    from .data import datasets
    from .events.align import align_events
    from .events.catalog import Catalog, load_catalog, load_catalogs, merge_catalogs
    from .study.eventstudy import EventStudy
    from .study.intraday import IntradayStudy
    from .study.result import EventStudyResult

#: Public name -> the module that holds it, imported on first use: ``import impact`` loads
#: neither pandas nor scipy (start-up time, docs/architecture.md). ``None``: the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": (".data.datasets", None),
    "align_events": (".events.align", "align_events"),
    "Catalog": (".events.catalog", "Catalog"),
    "load_catalog": (".events.catalog", "load_catalog"),
    "load_catalogs": (".events.catalog", "load_catalogs"),
    "merge_catalogs": (".events.catalog", "merge_catalogs"),
    "EventStudy": (".study.eventstudy", "EventStudy"),
    "IntradayStudy": (".study.intraday", "IntradayStudy"),
    "EventStudyResult": (".study.result", "EventStudyResult"),
}
#: Stages reachable as attributes (``impact.study.result``) without importing them first.
_STAGES = ("events", "data", "study", "inference", "report", "backtest", "cli")

__all__ = [
    "Catalog", "CatalogError", "DataError", "EventStudy", "EventStudyResult", "ImpactError", "IntradayStudy",
    "SpecError", "align_events", "datasets", "load_catalog", "load_catalogs", "merge_catalogs", "__version__",
]


def __getattr__(name: str) -> Any:  # PEP 562: the public names above, imported when first asked for
    if name in _LAZY:
        module, attribute = _LAZY[name]
        loaded = importlib.import_module(module, __name__)
        value = loaded if attribute is None else getattr(loaded, attribute)
        globals()[name] = value  # once: later lookups are plain attribute reads
        return value
    if name in _STAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
