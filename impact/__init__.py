"""impact: event studies of policy announcements on markets.

Pipeline, one subpackage per stage (docs/architecture.md):
events -> data -> study -> inference -> report / backtest -> cli.

>>> from impact import EventStudy, load_catalog, datasets
>>> study = EventStudy(datasets.load_prices(), load_catalog(), market="GSPC")
>>> result = study.fit()
"""
from __future__ import annotations

from .data import datasets
from .errors import CatalogError, DataError, ImpactError, SpecError
from .events.align import align_events
from .events.catalog import Catalog, load_catalog, load_catalogs, merge_catalogs

# The inference stage offers the fitted results their verbs (result.test, .tests, .mvrm, the research verbs
# of study/verbs.py; intraday .tests()).
from .inference import battery as _battery  # noqa: E402,F401
from .inference import bhar as _bhar  # noqa: E402,F401
from .inference import bootstrap as _bootstrap  # noqa: E402,F401
from .inference import calendar_time as _calendar_time  # noqa: E402,F401
from .inference import cross_section as _cross_section  # noqa: E402,F401
from .inference import intraday as _intraday  # noqa: E402,F401
from .inference import multiple as _multiple  # noqa: E402,F401
from .inference import mvrm as _mvrm  # noqa: E402,F401
from .inference import volatility as _volatility  # noqa: E402,F401
from .inference import volume as _volume  # noqa: E402,F401
from .study.eventstudy import EventStudy
from .study.intraday import IntradayStudy
from .study.result import EventStudyResult
from .version import __version__

__all__ = [
    "Catalog", "CatalogError", "DataError", "EventStudy", "EventStudyResult", "ImpactError", "IntradayStudy",
    "SpecError", "align_events", "datasets", "load_catalog", "load_catalogs", "merge_catalogs", "__version__",
]
