from __future__ import annotations

from pathlib import Path

import pytest

from impact import EventStudy, datasets, load_catalog

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


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
