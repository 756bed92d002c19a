"""impact: event studies of policy announcements on markets.

Pipeline: events -> align -> data -> models -> statistics -> report.

>>> from impact import EventStudy, load_catalog, datasets
>>> study = EventStudy(datasets.load_prices(), load_catalog(), market="GSPC")
>>> result = study.fit()
"""
from __future__ import annotations

from . import datasets
from .align import align_events
from .errors import CatalogError, DataError, ImpactError, SpecError
from .events import Catalog, load_catalog, merge_catalogs
from .result import EventStudyResult
from .study import EventStudy

__version__ = "0.1.0"

__all__ = [
    "Catalog", "CatalogError", "DataError", "EventStudy", "EventStudyResult", "ImpactError",
    "SpecError", "align_events", "datasets", "load_catalog", "merge_catalogs", "__version__",
]
