"""The research verbs of a fitted result (issue 15): cross-sectional regressions of CARs,
abnormal volume and volatility, the date-clustered wild bootstrap, multiple-testing
adjustment and the calendar-time portfolio. They live in :mod:`impact.inference` (the
study stage never imports a later one) and plug in through
:func:`impact.study.result.extend`; this mixin gives them names, signatures and help.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .extensions import extension
from .windows import Window


class ResearchVerbs:
    """Mixed into :class:`~impact.study.result.EventStudyResult`."""

    def regress(self, formula: str, window: Window = (-1, 1), data: pd.DataFrame | None = None,
                cov: str = "cluster", cluster: str = "day0", weights: str | None = None) -> Any:
        """Cross-sectional regression of CARs (statsmodels formula, e.g. ``"car ~ C(kind)"``)
        on pair, asset or event characteristics; clustered by day-0 date by default.
        See :func:`impact.inference.cross_section.regress`."""
        return extension("regress")(self, formula, window=window, data=data, cov=cov, cluster=cluster,
                                    weights=weights)

    def abnormal_volume(self, model: str = "mean") -> Any:
        """The same study on log volume: abnormal log volume per day and CAV, with the whole
        test battery (Campbell & Wasley 1996; Ajinkya & Jain 1989). See
        :func:`impact.inference.volume.abnormal_volume`."""
        return extension("abnormal_volume")(self, model=model)

    def volatility(self, window: Window = (0, 0), method: str = "beaver") -> pd.DataFrame:
        """Abnormal volatility per pair over ``window``: Beaver's (1968) variance ratio
        (``method="beaver"``) or the squared AR over its GARCH(1,1) one-step-ahead conditional
        variance (``method="garch"``); implied-volatility levels report their level change.
        See :func:`impact.inference.volatility.variance_ratios`."""
        return extension("volatility")(self, window=window, method=method)

    def bootstrap(self, window: Window = (-1, 1), draws: int = 999, seed: int = 0, weights: str = "rademacher",
                  cluster: str = "date", aligned: bool = False, by: str | None = None) -> pd.DataFrame:
        """Wild bootstrap of the CAAR (sign-aligned with ``aligned=True``, one row per group with
        ``by``) with weights drawn per event date (all assets of a date together). See
        :func:`impact.inference.bootstrap.wild_bootstrap`."""
        return extension("bootstrap")(self, window=window, draws=draws, seed=seed, weights=weights,
                                      cluster=cluster, aligned=aligned, by=by)

    def adjusted(self, window: Window = (-1, 1), method: str = "holm", family: str = "event_id") -> pd.DataFrame:
        """Per-pair CAR tests with p-values adjusted within each family (Holm 1979 or
        Benjamini & Hochberg 1995). See :func:`impact.inference.multiple.adjusted_car`."""
        return extension("adjusted")(self, window=window, method=method, family=family)

    def bhar_tests(self, window: Window | None = None, draws: int = 999, seed: int = 0) -> pd.DataFrame:
        """BHAR across pairs: cross-sectional t and Lyon, Barber & Tsai's (1999) skewness-adjusted
        t with its bootstrap. See :func:`impact.inference.bhar.bhar_tests`."""
        return extension("bhar_tests")(self, window=window, draws=draws, seed=seed)

    def calendar_time(self, window: Window | None = None, **options: Any) -> pd.DataFrame:
        """Calendar-time portfolio of the assets in their event windows regressed on the
        benchmark (Jaffe 1974; Mandelker 1974). See
        :func:`impact.inference.calendar_time.calendar_time`."""
        return extension("calendar_time")(self, window=window, **options)
