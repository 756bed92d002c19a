"""Where the bundled catalogs, report specs and sample data live.

In a wheel the top-level ``events/`` and ``reports/`` folders are installed as
``impact/_bundled/``; in an editable install they are read from the repository.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_DIR = PACKAGE_DIR / "data" / "sample_data"


def _bundled(folder: str) -> Path:
    installed = PACKAGE_DIR / "_bundled" / folder
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / folder


def events_dir() -> Path:
    return _bundled("events")


def reports_dir() -> Path:
    return _bundled("reports")


def backtests_dir() -> Path:
    """The bundled backtest specs (``impact backtest NAME``)."""
    return _bundled("backtests")


def default_catalog_path() -> Path:
    return events_dir() / "us_china_trade_policy.csv"
