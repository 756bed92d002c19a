from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import impact
from impact import EventStudy, datasets, load_catalog

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# Every module of the package, imported once before any test: `import impact` and the CLI load
# modules on first use (start-up time, docs/architecture.md), and a module first imported while a
# test monkeypatches a function would keep the patched function for good (`from .build import
# run_spec`). tests/test_startup.py checks the lazy loading itself, in fresh interpreters.
for _module in pkgutil.walk_packages(impact.__path__, "impact."):
    importlib.import_module(_module.name)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def prices():
    return datasets.load_prices()


@pytest.fixture(scope="session")
def default_result(prices, catalog):
    """Market model, log returns, all catalog events x a broad set of bundled assets."""
    assets = ["SPY", "SOXX", "KWEB", "FXI", "HSI", "000001_SS", "ZS_F", "HG_F", "CT1", "MP", "DEXCHUS"]
    return EventStudy(prices, catalog, market="GSPC", model="market", assets=assets).fit()


@pytest.fixture(scope="session")
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project root")
    return SHARED
