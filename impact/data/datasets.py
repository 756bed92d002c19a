"""The real sample data shipped with the package (the offline default).

Daily prices 2017-2026 for indices, ETFs, stocks, futures and USD/CNY, and the
Fama-French 3 daily factors. Provenance and caveats: ``sample_data/SOURCES.md``
(``impact.datasets.provenance()``).
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pandas as pd

from ..errors import DataError
from ..events.assets import registry
from ..resources import SAMPLE_DIR

#: Symbols used by the default report (all catalog events x these assets).
DEFAULT_SYMBOLS = (
    "GSPC", "SPY", "SOXX", "KWEB", "FXI", "HSI", "000001_SS", "ZS_F", "HG_F",
    "ZW_F", "ZC_F", "CT1", "MP", "REMX", "DEXCHUS", "VIX",
)


@lru_cache(maxsize=1)
def _all_prices() -> pd.DataFrame:
    return pd.read_parquet(SAMPLE_DIR / "prices.parquet")


def available_symbols() -> list[str]:
    """Symbols in the bundled sample."""
    return sorted(_all_prices()["symbol"].unique().tolist())


def load_prices(symbols: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Tidy daily prices from the bundled sample.

    Returns columns ``date, symbol, open, high, low, close, adj_close, volume,
    asset_class, exchange, currency``; one row per (symbol, session date).
    ``symbols=None`` returns every bundled symbol.
    """
    prices = _all_prices()
    if isinstance(symbols, str):
        symbols = [symbols]
    if symbols is not None:
        symbols = list(dict.fromkeys(symbols))
        known = set(prices["symbol"].unique())
        missing = [s for s in symbols if s not in known]
        if missing:
            raise DataError(
                f"unknown symbol(s) {', '.join(missing)}: not in the bundled sample "
                f"(available: {', '.join(sorted(known))})"
            )
        prices = prices[prices["symbol"].isin(symbols)]
    meta = registry()[["asset_class", "calendar", "currency"]].rename(columns={"calendar": "exchange"})
    out = prices.merge(meta, left_on="symbol", right_index=True, how="left")
    return out.sort_values(["symbol", "date"], ignore_index=True)


def load_factors() -> pd.DataFrame:
    """Fama-French 3 daily factors (percent): ``date, mkt_rf, smb, hml, rf``."""
    return pd.read_parquet(SAMPLE_DIR / "ff3_daily.parquet")


def provenance() -> str:
    """The provenance and caveats of every bundled series (Markdown)."""
    return (SAMPLE_DIR / "SOURCES.md").read_text(encoding="utf-8")
