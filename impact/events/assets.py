"""What each symbol is: asset class, trading calendar and daily close time.

The registry (``sample_data/assets.csv``) covers the bundled symbols. ``calendar`` is
an exchange_calendars name or a pandas_market_calendars one listed in
:data:`impact.calendars.MARKET_CALENDARS` (chosen per asset so that its sessions
match the days the asset really has a daily price); ``close_time``/``close_tz``, when given, replace the
calendar's close with the instant the daily price is struck (futures settlement,
the FRED noon fixing), which is what alignment needs.

``open_time``/``open_tz``/``open_day`` say when the *daily open* in the data is struck,
for studies of the overnight gap and the trading session (``EventStudy(session_part=)``):
the exchange's opening auction for stocks and indexes, the CME Globex / ICE evening open
for the next trade date for futures (``open_day = previous``: the calendar evening before
the session date), ``none`` where the data's opens are missing, stale or on an unknown
clock; ``open_note`` gives the evidence.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import Any

import pandas as pd

from ..resources import SAMPLE_DIR


@dataclass(frozen=True)
class Asset:
    symbol: str
    name: str
    asset_class: str
    calendar: str
    close_time: time | None = None
    close_tz: str | None = None
    currency: str | None = None
    yahoo: str | None = None
    known: bool = True
    open_time: time | None = None  # None with has_open: the calendar's own open
    open_tz: str | None = None
    open_day: str = "session"  # "previous": struck the calendar evening before the session date
    has_open: bool = True  # False: registry open_time "none" (no usable open on a known clock)
    open_note: str = ""

    @property
    def exchange(self) -> str:
        return self.calendar

    @property
    def no_open_reason(self) -> str:
        """Why the registry has no usable open: the first clause of ``open_note``."""
        return self.open_note.split(":")[0].split(";")[0] or "registry open_time none"


@lru_cache(maxsize=1)
def registry() -> pd.DataFrame:
    """The asset registry as a DataFrame indexed by symbol."""
    table = pd.read_csv(SAMPLE_DIR / "assets.csv", dtype=str, keep_default_na=False)
    return table.set_index("symbol")


def _parse_time(text: str) -> time | None:
    if not text:
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@lru_cache(maxsize=1)
def _by_ticker() -> dict[str, str]:
    table = registry()
    return {ticker: symbol for symbol, ticker in table["yahoo"].items() if ticker}


def get_asset(symbol: str, default_calendar: str = "XNYS") -> Asset:
    """Metadata for ``symbol`` (a package symbol, or its Yahoo ticker such as ``000001.SS``);
    unknown symbols are assumed to follow ``default_calendar`` and are marked
    ``known=False`` so alignment can flag the assumption."""
    table = registry()
    if symbol not in table.index and symbol not in _by_ticker():
        return Asset(symbol, symbol, "unknown", default_calendar, known=False)
    row = table.loc[symbol if symbol in table.index else _by_ticker()[symbol]]
    return Asset(
        symbol=symbol,
        name=row["name"],
        asset_class=row["asset_class"],
        calendar=row["calendar"],
        close_time=_parse_time(row["close_time"]),
        close_tz=row["close_tz"] or None,
        currency=row["currency"] or None,
        yahoo=row["yahoo"] or None,
        open_time=_parse_time(row.get("open_time", "")) if row.get("open_time", "") != "none" else None,
        open_tz=row.get("open_tz", "") or None,
        open_day=row.get("open_day", "") or "session",
        has_open=row.get("open_time", "") != "none",
        open_note=row.get("open_note", ""),
    )


def by_asset(mapping: Mapping[str, Any], symbol: str, default: Any = None) -> Any:
    """A per-asset setting from a spec-style mapping: the entry for ``symbol`` itself,
    else for its asset class (``equity_etf``, ``agriculture_future``, ...), else
    ``default`` (the mapping's own ``"default"`` entry first)."""
    if symbol in mapping:
        return mapping[symbol]
    cls = get_asset(symbol).asset_class
    if cls in mapping:
        return mapping[cls]
    return mapping.get("default", default)


def asset_label(asset: str | None) -> str:
    """A short reader's name for an asset (registry ``label``: "semiconductors" for SOXX),
    else the symbol."""
    table = registry()
    if asset in table.index and "label" in table.columns and table.at[asset, "label"]:
        return str(table.at[asset, "label"])
    return asset or ""


def asset_title(asset: str) -> str:
    """The reader's name with the symbol, "S&P 500 (GSPC)", once: a label that already
    names its symbol ("semiconductors (SMH)") is not given it twice."""
    label = asset_label(asset)
    return label if label == asset or label.endswith(f"({asset})") else f"{label} ({asset})"
