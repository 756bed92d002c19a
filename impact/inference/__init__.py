"""Stage 4, inference: the test battery on a fitted result (parametric, rank and sign
tests, the clustered placebo, Binder's MVRM) and the tools for shared event dates (the
date-clustered wild bootstrap, multiple-testing adjustment, the calendar-time portfolio),
as pure functions of its arrays.

The fitted results' verbs live here; this package names the module that offers each one,
imported on the verb's first use (``import impact`` imports this package, not the modules).
"""
from __future__ import annotations

from ..study.extensions import provide

#: Verb of the fitted result -> the module of this stage that offers it (``extend`` at import).
VERBS = {
    "test": "battery", "tests": "battery", "mvrm": "mvrm", "regress": "cross_section",
    "abnormal_volume": "volume", "volatility": "volatility", "bootstrap": "bootstrap", "adjusted": "multiple",
    "bhar_tests": "bhar", "calendar_time": "calendar_time", "intraday_tests": "intraday",
}

for _verb, _module in VERBS.items():
    provide(_verb, f"{__name__}.{_module}")
