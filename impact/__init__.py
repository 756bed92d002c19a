"""impact: event studies of policy announcements on markets.

Pipeline, one subpackage per stage (docs/architecture.md):
events -> data -> study -> inference -> report / backtest -> cli.

>>> from impact import EventStudy, load_catalog, datasets
>>> study = EventStudy(datasets.load_prices(), load_catalog(), market="GSPC")
>>> result = study.fit()
"""
from __future__ import annotations

__version__ = "0.1.0"

from .data import datasets  # noqa: E402 - after __version__, which the report stage reads
from .errors import CatalogError, DataError, ImpactError, SpecError
from .events.align import align_events
from .events.catalog import Catalog, load_catalog, load_catalogs, merge_catalogs
from .study.eventstudy import EventStudy
from .study.result import EventStudyResult

__all__ = [
    "Catalog", "CatalogError", "DataError", "EventStudy", "EventStudyResult", "ImpactError",
    "SpecError", "align_events", "datasets", "load_catalog", "load_catalogs", "merge_catalogs", "__version__",
]
