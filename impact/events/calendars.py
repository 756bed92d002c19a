"""Trading sessions and the instant each session's daily price is struck.

Sessions and holidays come from well-kept calendar libraries, never from
hand-written holiday lists:

* ``exchange_calendars`` for exchanges it models well (``XNYS``, ``XHKG`` with
  its typhoon-free schedule, ``XSHG`` with Golden Week and Lunar New Year,
  ``24/5`` for spot FX);
* ``pandas_market_calendars`` for futures *trade dates* and the bond market,
  which exchange_calendars gets wrong for our purpose: its ``CMES`` calendar
  has sessions on US holidays (e.g. Labor Day 2019-09-02) on which CBOT grains
  were closed and no COMEX settlement was published. ``CBOT_Agriculture`` (CME
  grain and oilseed holidays, early closes) and ``CME_TradeDate`` (CME trade
  dates, i.e. days with a settlement) are used instead;
* pandas' own ``USFederalHolidayCalendar`` for ``USFederal``: the Federal Reserve
  business days on which the H.10 noon buying rates are published (open on Good
  Friday, shut on Columbus and Veterans Day, unlike NYSE or SIFMA). Its nominal
  session runs 00:00-17:00 ET; the registry's 12:00 ET fixing time replaces the close.

A session is labelled with its trade date, so the CBOT Sunday-evening
electronic session, which trades for Monday's settlement, belongs to Monday.

For assets whose daily price is not the exchange's last trade (futures
settlement, the FRED noon fixing) the registry gives a local time that replaces
the calendar close. On early-close days (e.g. the Friday after Thanksgiving) the
price cannot be struck after the market shuts, so the earlier of the two is used.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import exchange_calendars as xcals
import pandas as pd

from ..errors import DataError
from .assets import Asset

CALENDAR_START = "2000-01-01"
#: Calendars read from pandas_market_calendars (all others from exchange_calendars).
MARKET_CALENDARS = ("CBOT_Agriculture", "CME_Agriculture", "CME_TradeDate", "SIFMA_US", "ICEUS", "NYSE")


@dataclass(frozen=True)
class SessionCalendar:
    """One library-independent view of a trading calendar.

    ``opens``/``closes`` are tz-aware (UTC) Series indexed by the naive session
    date; ``tz`` is the exchange's zone name; ``source`` names the library.
    """

    name: str
    tz: str
    opens: pd.Series
    closes: pd.Series
    source: str

    @property
    def sessions(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.closes.index)


def _naive(index) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(index)
    if index.tz is not None:
        index = index.tz_localize(None)
    return index.as_unit("ns").normalize()


def _utc(values) -> pd.Series:
    s = pd.Series(values)
    s = pd.to_datetime(s, utc=True)
    return s.dt.as_unit("ns")


#: Calendars built from pandas.tseries.holiday rules.
HOLIDAY_CALENDARS = ("USFederal",)


def _federal_calendar() -> SessionCalendar:
    from pandas.tseries.holiday import USFederalHolidayCalendar
    from pandas.tseries.offsets import CustomBusinessDay

    end = pd.Timestamp.today().normalize() + pd.DateOffset(years=1)
    days = pd.date_range(CALENDAR_START, end, freq=CustomBusinessDay(calendar=USFederalHolidayCalendar()))
    index = _naive(days)
    zone = "America/New_York"
    opens = pd.Series(index.tz_localize(zone).tz_convert("UTC"), index=index, name="open_utc")
    closes = pd.Series((index + pd.Timedelta(hours=17)).tz_localize(zone).tz_convert("UTC"), index=index,
                       name="close_utc")
    return SessionCalendar("USFederal", zone, opens, closes, "pandas.tseries.holiday")


#: Unscheduled closures the calendar libraries do not know (a session there would make
#: the next return look like a two-session gap and could put day 0 on a shut market).
UNSCHEDULED_CLOSURES = {
    "XHKG": ("2023-09-01",   # typhoon Saola: trading cancelled all day
             "2023-09-08"),  # black-rainstorm warning: trading cancelled all day
    "USFederal": ("2017-01-20", "2021-01-20",   # inauguration days (federal holiday in the DC area)
                  "2018-12-05",                 # national day of mourning (President G.H.W. Bush)
                  "2018-12-24", "2020-12-24"),  # federal agencies closed by executive order
}


def _without_closures(calendar: SessionCalendar) -> SessionCalendar:
    shut = pd.DatetimeIndex(pd.to_datetime(UNSCHEDULED_CLOSURES.get(calendar.name, ())))
    if not len(shut):
        return calendar
    keep = ~calendar.closes.index.isin(shut)
    return SessionCalendar(calendar.name, calendar.tz, calendar.opens[keep], calendar.closes[keep], calendar.source)


@cache
def get_calendar(name: str) -> SessionCalendar:
    """The trading calendar ``name`` (an exchange_calendars name such as ``XNYS`` or
    one of :data:`MARKET_CALENDARS` from pandas_market_calendars), less the
    :data:`UNSCHEDULED_CLOSURES` it does not know."""
    return _without_closures(_library_calendar(name))


def _library_calendar(name: str) -> SessionCalendar:
    with warnings.catch_warnings():  # both libraries use APIs pandas 3 deprecates
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        if name in HOLIDAY_CALENDARS:
            return _federal_calendar()
        if name in MARKET_CALENDARS:
            import pandas_market_calendars as mcal

            cal = mcal.get_calendar(name)
            end = pd.Timestamp.today().normalize() + pd.DateOffset(years=1)
            sched = cal.schedule(start_date=CALENDAR_START, end_date=end)
            index = _naive(sched.index)
            opens = pd.Series(_utc(sched["market_open"]).to_numpy(), index=index, name="open_utc")
            closes = pd.Series(_utc(sched["market_close"]).to_numpy(), index=index, name="close_utc")
            return SessionCalendar(name, str(cal.tz), opens, closes, "pandas_market_calendars")
        try:
            cal = xcals.get_calendar(name, start=CALENDAR_START)
        except xcals.errors.InvalidCalendarName:
            raise DataError(
                f"unknown trading calendar {name!r} (an exchange_calendars name, or one of "
                f"{', '.join(MARKET_CALENDARS + HOLIDAY_CALENDARS)})") from None
        index = _naive(cal.sessions)
        opens = pd.Series(_utc(cal.opens).to_numpy(), index=index, name="open_utc")
        closes = pd.Series(_utc(cal.closes).to_numpy(), index=index, name="close_utc")
        return SessionCalendar(name, str(cal.tz), opens, closes, "exchange_calendars")


@cache
def _closes(calendar: str, close_time: str | None, close_tz: str | None) -> pd.Series:
    cal = get_calendar(calendar)
    closes = cal.closes
    if close_time is not None:
        hours, minutes = (int(x) for x in close_time.split(":"))
        local = cal.sessions + pd.Timedelta(hours=hours, minutes=minutes)
        struck = pd.Series(local.tz_localize(close_tz).tz_convert("UTC").as_unit("ns"), index=cal.sessions)
        # Early closes: the price is struck no later than the market shuts.
        closes = struck.where(struck <= closes, closes)
    return closes.rename("close_utc")


def session_closes(asset: Asset) -> pd.Series:
    """Session date -> UTC instant at which the asset's daily price is struck."""
    close = asset.close_time.strftime("%H:%M") if asset.close_time else None
    return _closes(asset.calendar, close, asset.close_tz if close else None)


@cache
def _opens(calendar: str, open_time: str | None, open_tz: str | None, open_day: str) -> pd.Series:
    cal = get_calendar(calendar)
    if open_time is None:
        return cal.opens.rename("open_utc")
    hours, minutes = (int(x) for x in open_time.split(":"))
    back = pd.Timedelta(days=1 if open_day == "previous" else 0)
    local = cal.sessions - back + pd.Timedelta(hours=hours, minutes=minutes)
    return pd.Series(local.tz_localize(open_tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")
                     .as_unit("ns"), index=cal.sessions, name="open_utc")


def session_opens(asset: Asset) -> pd.Series:
    """Session date -> UTC instant at which the asset's daily *open* is struck (the
    registry's ``open_time``, else the calendar's open); all NaT when the registry says
    the asset has no usable open (``open_time = none``).

    For futures the data's open is the electronic evening open for the next trade date
    (``open_day = previous``: 19:00 CT the evening before a CBOT grain session, Sunday
    evening for Monday), not the day session's open.
    """
    closes = session_closes(asset)
    if not asset.has_open:
        return pd.Series(pd.NaT, index=closes.index, dtype="datetime64[ns, UTC]", name="open_utc")
    when = asset.open_time.strftime("%H:%M") if asset.open_time else None
    return _opens(asset.calendar, when, asset.open_tz if when else None, asset.open_day).reindex(closes.index)


def asset_zone(asset: Asset) -> str:
    """The zone of the asset's exchange clock (UTC for a symbol the registry does not know)."""
    return get_calendar(asset.calendar).tz if asset.known else "UTC"


def sessions(asset: Asset) -> pd.DatetimeIndex:
    """The asset's session dates (naive, one per daily bar)."""
    return pd.DatetimeIndex(session_closes(asset).index)


def trading_hours(asset: Asset) -> pd.DataFrame:
    """Session date -> ``open_utc, close_utc``: the asset's regular hours for intraday
    windows, from the registry's open clock (the calendar's open where the registry has
    none) to the instant its daily price is struck."""
    opens = session_opens(asset)
    if opens.isna().all():
        opens = get_calendar(asset.calendar).opens.reindex(opens.index)
    return pd.DataFrame({"open_utc": opens, "close_utc": session_closes(asset)})
