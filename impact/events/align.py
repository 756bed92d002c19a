"""Map announcement instants onto each asset's trading sessions.

Rule (the *close-after* rule): event day 0 for (event, asset) is the first session
of the asset's calendar whose daily price is struck strictly after the
announcement instant. News at 16:00 ET is therefore priced by NYSE on the next
session, and news after the 13:15 CT soybean settlement on the next settlement.

When the time of day is unknown, the catalog's ``us_timing`` class (pre-open,
intraday, after-close against NYSE hours, weekend, holiday) and the issuer's working
hours in its own zone (:data:`WORKING_HOURS`, or the event's ``hours``) narrow the
instant to an interval; if the interval still spans a close, the pair is flagged
``uncertain`` and ``policy`` picks the session ("earliest": the first session that
could have reacted, the classic "announcement date is day 0" convention;
"latest": the first session certainly after the news).

Session parts (``session_part``): a session's close-to-close return splits into the
*overnight* part (previous close -> open) and the *trading* part (open -> close), each
on the asset's own clock (:func:`impact.events.calendars.session_opens`). ``part`` says
which part of day 0 first contains the announcement (``overnight``, ``trading``,
``uncertain`` when the instant's interval spans the open, empty when the asset has no
usable open). In a study of one part, day 0 is the first session whose part ends after
the news: for ``trading`` the close rule as above; for ``overnight`` the first session
whose open is struck after the news (a 10:57 ET post is in 10 October's trading part,
so its first overnight part is the gap into 13 October).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import ImpactError
from .assets import get_asset, registry
from .calendars import session_closes, session_opens

POLICIES = ("earliest", "latest")
#: ``close``: close to close (the default); ``overnight``: previous close -> open; ``trading``: open -> close.
SESSION_PARTS = ("close", "overnight", "trading")

# NYSE-hour timing classes as [start, end) offsets within the ET calendar day.
_CLASS_HOURS = {
    "pre_open": (pd.Timedelta(0), pd.Timedelta(hours=9, minutes=30)),
    "intraday": (pd.Timedelta(hours=9, minutes=30), pd.Timedelta(hours=16)),
    "after_close": (pd.Timedelta(hours=16), pd.Timedelta(hours=24)),
}
_ET = "America/New_York"


def _local_day(day: pd.Timestamp, zone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = day.tz_localize(zone)
    end = (day + pd.Timedelta(days=1)).tz_localize(zone)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def _class_window(day: pd.Timestamp, zone: str, timing: str) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """The UTC interval [lo, hi) the announcement lies in, and how it was derived."""
    lo, hi = _local_day(day, zone)
    if timing in _CLASS_HOURS:
        a, b = _CLASS_HOURS[timing]
        for offset in (-1, 0, 1):
            et_day = day + pd.Timedelta(days=offset)
            c_lo = (et_day + a).tz_localize(_ET).tz_convert("UTC")
            c_hi = (et_day + b).tz_localize(_ET, nonexistent="shift_forward").tz_convert("UTC") \
                if b < pd.Timedelta(hours=24) else (et_day + pd.Timedelta(days=1)).tz_localize(_ET).tz_convert("UTC")
            s, e = max(lo, c_lo), min(hi, c_hi)
            if s < e:
                return s, e, f"timing_class:{timing}"
        return lo, hi, f"timing_class:{timing}(inconsistent with local date; whole day used)"
    if timing == "weekend":
        # Narrow to the New York weekend when the local day straddles it.
        for offset in (-1, 0, 1):
            et_day = day + pd.Timedelta(days=offset)
            if et_day.day_of_week == 5:
                w_lo = et_day.tz_localize(_ET).tz_convert("UTC")
                w_hi = (et_day + pd.Timedelta(days=2)).tz_localize(_ET).tz_convert("UTC")
                s, e = max(lo, w_lo), min(hi, w_hi)
                if s < e:
                    return s, e, "timing_class:weekend"
        return lo, hi, "timing_class:weekend"
    if timing == "holiday":
        return lo, hi, "timing_class:holiday"
    return lo, hi, "unknown_time"


#: Default working hours of each actor in the announcement's own zone, used when the time of
#: day is unknown (an office publishes in its working day, not at 04:00): government notices,
#: press conferences and briefings, with an evening margin for late statements (Chinese
#: ministries have announced retaliation as late as the evening, Beijing time; US agencies
#: and the White House publish from the early morning to the evening). A catalog row's
#: ``hours`` column (``HH:MM-HH:MM``) replaces them for that event.
WORKING_HOURS = {"China": "08:00-22:00", "US": "07:00-21:00", "both": "08:00-22:00"}


def _working_hours(ev, lo: pd.Timestamp, hi: pd.Timestamp, how: str) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """Narrow an unknown-time interval [lo, hi) to the issuer's working hours on the local
    date; if they do not overlap the timing class, the class wins and the rule says so."""
    given = getattr(ev, "hours", "") or ""
    hours = given or WORKING_HOURS.get(getattr(ev, "actor", ""), "")
    if not hours:
        return lo, hi, how
    start, end = hours.split("-")
    offset = lambda t: pd.Timedelta(hours=int(t[:2]), minutes=int(t[3:]))  # noqa: E731
    w_lo = (ev.date + offset(start)).tz_localize(ev.timezone, nonexistent="shift_forward", ambiguous=True)
    w_hi = (ev.date + offset(end)).tz_localize(ev.timezone, nonexistent="shift_forward", ambiguous=True)
    a, b = max(lo, w_lo.tz_convert("UTC")), min(hi, w_hi.tz_convert("UTC"))
    source = "event" if given else ev.actor
    if a >= b:
        return lo, hi, f"{how};hours:{hours}({source}; outside the timing class, not applied)"
    return a, b, f"{how};hours:{hours}({source})"


def event_instants(events: pd.DataFrame) -> pd.DataFrame:
    """For each catalog event, the UTC interval [instant_lo, instant_hi] it lies in.

    Exact times give ``instant_lo == instant_hi``.
    """
    rows = []
    for ev in events.itertuples(index=False):
        if ev.time_local:
            hours, minutes = (int(x) for x in ev.time_local.split(":"))
            local = ev.date + pd.Timedelta(hours=hours, minutes=minutes)
            instant = local.tz_localize(ev.timezone, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")
            rows.append((ev.event_id, instant, instant, "exact_time"))
        else:
            lo, hi, how = _class_window(ev.date, ev.timezone, ev.us_timing)
            lo, hi, how = _working_hours(ev, lo, hi, how)
            rows.append((ev.event_id, lo, hi - pd.Timedelta(nanoseconds=1), how))
    return pd.DataFrame(rows, columns=["event_id", "instant_lo", "instant_hi", "rule"])


def align_events(
    events: pd.DataFrame,
    assets: Iterable[str],
    policy: str = "earliest",
    session_part: str = "close",
) -> pd.DataFrame:
    """Day 0 for every (event, asset) pair of a catalog's events.

    Returns a tidy frame ``event_id, asset, day0, rule, flags, instant_lo,
    instant_hi, close_utc, calendar, reason``: ``day0`` is the session date
    (naive) whose close or settlement ``close_utc`` is the first strictly after
    the announcement; ``rule`` how the instant was derived (``exact_time``,
    ``timing_class:<class>``, ``unknown_time``, plus ``;policy:<policy>`` when the
    policy decided); ``flags`` a ';'-separated list (``uncertain``,
    ``calendar_assumed:<cal>``, ``before_calendar``, ``after_calendar``); ``reason`` says why a pair
    has no day 0 (empty otherwise); ``open_utc`` is day 0's open and ``part`` the part of
    day 0 the announcement falls in (module docstring). With ``session_part="overnight"``
    day 0 is the first session whose open comes after the news, and assets without a
    usable open have no day 0 (the reason says why).
    """
    if policy not in POLICIES:
        raise ImpactError(f"unknown alignment policy {policy!r} (choose from {', '.join(POLICIES)})")
    if session_part not in SESSION_PARTS:
        raise ImpactError(f"unknown session_part {session_part!r} (choose from {', '.join(SESSION_PARTS)})")
    instants = event_instants(events)
    lo = pd.DatetimeIndex(instants["instant_lo"]).as_unit("ns").asi8
    hi = pd.DatetimeIndex(instants["instant_hi"]).as_unit("ns").asi8
    out = []
    for symbol in dict.fromkeys(assets):
        asset = get_asset(symbol)
        closes = session_closes(asset)
        opens = session_opens(asset)
        open_ns = pd.DatetimeIndex(opens).as_unit("ns").asi8
        no_open = session_part != "close" and not asset.has_open
        # A part study's day 0 is the first session whose part ends after the news: the
        # close for "trading", the open for "overnight".
        close_ns = open_ns if session_part == "overnight" and asset.has_open else \
            pd.DatetimeIndex(closes).as_unit("ns").asi8
        i_lo = np.searchsorted(close_ns, lo, side="right")
        i_hi = np.searchsorted(close_ns, hi, side="right")
        pick = i_lo if policy == "earliest" else i_hi
        n = len(closes)
        sessions = closes.index
        for k, ev in enumerate(instants.itertuples(index=False)):
            flags = []
            if not asset.known:
                flags.append(f"calendar_assumed:{asset.calendar}")
            rule = ev.rule
            if i_lo[k] != i_hi[k]:
                flags.append("uncertain")
                rule = f"{rule};policy:{policy}"
            reason = ""
            if no_open:
                flags.append("no_open")
                day0, close = pd.NaT, pd.NaT
                reason = (f"no usable daily open for {symbol} ({asset.no_open_reason}); "
                          f"session_part={session_part!r} needs one")
            elif i_lo[k] == 0:
                # No session closes before the news: the calendar starts too late to know
                # which session came first after it.
                flags.append("before_calendar")
                day0, close = pd.NaT, pd.NaT
                reason = (f"announcement before the first session of calendar {asset.calendar} "
                          f"({sessions[0]:%Y-%m-%d})" if n else f"calendar {asset.calendar} has no sessions")
            elif pick[k] >= n:
                flags.append("after_calendar")
                day0, close = pd.NaT, pd.NaT
                reason = (f"announcement after the last session of calendar {asset.calendar} "
                          f"({sessions[-1]:%Y-%m-%d})" if n else f"calendar {asset.calendar} has no sessions")
            else:
                day0, close = sessions[pick[k]], closes.iloc[pick[k]]
            opened = opens.get(day0, pd.NaT) if not pd.isna(day0) else pd.NaT
            out.append((ev.event_id, symbol, day0, rule, ";".join(flags), ev.instant_lo, ev.instant_hi,
                        close, asset.calendar, reason, opened, _part(ev.instant_lo, ev.instant_hi, opened)))
    return pd.DataFrame(out, columns=["event_id", "asset", "day0", "rule", "flags", "instant_lo", "instant_hi",
                                      "close_utc", "calendar", "reason", "open_utc", "part"])


def _part(lo: pd.Timestamp, hi: pd.Timestamp, opened: pd.Timestamp) -> str:
    """The part of day 0 that contains the announcement interval [lo, hi]."""
    if pd.isna(opened):
        return ""
    if hi < opened:
        return "overnight"
    if lo >= opened:
        return "trading"
    return "uncertain"


def align_catalog(catalog, assets: Iterable[str] | None = None, policy: str = "earliest",
                  session_part: str = "close") -> pd.DataFrame:
    """:func:`align_events` for a :class:`~impact.events.Catalog` (or its frame);
    ``assets`` defaults to every symbol of the bundled asset registry."""

    frame = catalog.events if hasattr(catalog, "events") else catalog
    return align_events(frame, list(assets) if assets is not None else list(registry().index), policy,
                        session_part)
