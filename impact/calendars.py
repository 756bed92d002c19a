"""Trading sessions and the instant each session's daily price is struck.

Sessions and holidays come from ``exchange_calendars``. For assets whose daily
price is not the exchange's last trade (futures settlement, the FRED noon fixing)
the registry gives a local close time that replaces the calendar close.
"""
from __future__ import annotations

import warnings
from datetime import datetime
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from .assets import Asset
from .errors import DataError

CALENDAR_START = "2000-01-01"


@lru_cache(maxsize=None)
def get_calendar(name: str) -> xcals.ExchangeCalendar:
    try:
        with warnings.catch_warnings():  # exchange_calendars uses APIs pandas 3 deprecates
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return xcals.get_calendar(name, start=CALENDAR_START)
    except xcals.errors.InvalidCalendarName:
        raise DataError(f"unknown trading calendar {name!r} (see exchange_calendars.get_calendar_names())") from None


@lru_cache(maxsize=None)
def _closes(calendar: str, close_time: str | None, close_tz: str | None) -> pd.Series:
    cal = get_calendar(calendar)
    if close_time is None:
        closes = cal.closes.dt.tz_convert("UTC")
    else:
        hours, minutes = (int(x) for x in close_time.split(":"))
        local = cal.sessions + pd.Timedelta(hours=hours, minutes=minutes)
        closes = pd.Series(local.tz_localize(close_tz).tz_convert("UTC"), index=cal.sessions)
    closes.index = pd.DatetimeIndex(closes.index.tz_localize(None) if closes.index.tz else closes.index)
    return closes.rename("close_utc")


def session_closes(asset: Asset) -> pd.Series:
    """Session date -> UTC instant at which the asset's daily price is struck."""
    close = asset.close_time.strftime("%H:%M") if asset.close_time else None
    return _closes(asset.calendar, close, asset.close_tz if close else None)


def describe_close(asset: Asset) -> str:
    if asset.close_time:
        return f"{asset.calendar} sessions, price struck {asset.close_time:%H:%M} {asset.close_tz}"
    cal = get_calendar(asset.calendar)
    return f"{asset.calendar} sessions, exchange close ({cal.tz})"


def to_utc(local: datetime | pd.Timestamp, zone: str) -> pd.Timestamp:
    return pd.Timestamp(local).tz_localize(zone).tz_convert("UTC")
