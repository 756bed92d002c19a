"""Intraday bars in one validated tidy shape: ``symbol, time, date, open .. volume``.

``time`` is the bar's *start* as a UTC instant (yfinance, Polygon, Databento and most
charting exports stamp bars by their start); the bar covers ``[time, time + interval)``
(cut short by the next bar's start or the session's close) and its ``close`` is the
price at that end. ``date`` is the exchange-local
calendar date of ``time`` (the cache's coverage is kept in these dates).

The checks are those of daily prices (:mod:`impact.data.prices`), applied to instants:

* a timestamp without a zone is refused (a 10:57 post cannot be placed on a clock that
  is not stated) unless ``tz=`` names the file's clock; local times that do not exist
  or occur twice in that zone (DST changes) are refused naming the row;
* prices go through :func:`impact.data.prices.price_values` (not a number, infinite,
  <= 0 refused); ``high < low`` or a close outside ``[low, high]`` is refused;
* a duplicated bar (same symbol and time) is refused naming both rows;
* bars whose usual spacing is not the interval (1-minute bars read as 5-minute ones) are refused;
* missing bars are *not* refused (thin trading, halts): :func:`bar_gaps` lists them and
  the intraday study flags the windows they fall in.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError
from .prices import _SLASH_DATE, _canonical_columns, _first, _row_namer, exchange_zone, price_values

BAR_COLUMNS = ("symbol", "time", "date", "open", "high", "low", "close", "volume")

#: Bar lengths in minutes for the interval names yfinance (and this package) use.
INTERVALS = {"1m": 1, "2m": 2, "5m": 5, "15m": 15, "30m": 30, "60m": 60, "90m": 90, "1h": 60}

#: How far back yfinance serves each intraday interval, in days before today (its
#: documented limits: 1m bars for the last 30 days, at most 8 days per request; up to
#: 90m for 60 days; hourly for 730 days).
YAHOO_LOOKBACK_DAYS = {"1m": 30, "2m": 60, "5m": 60, "15m": 60, "30m": 60, "90m": 60, "60m": 730, "1h": 730}

# Vendor spellings of the timestamp column beyond the daily aliases (date, time, datetime, timestamp).
_TIME_ALIASES = ("gmt time", "local time", "ts_event", "window_start", "t", "bar_time", "datetime_utc")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def interval_minutes(interval: str) -> int:
    """Minutes in a bar of ``interval`` (``"1m"``, ``"5m"``, ... ``"60m"``/``"1h"``)."""
    if interval not in INTERVALS:
        raise DataError(f"unknown bar interval {interval!r}; choose one of {', '.join(INTERVALS)}")
    return INTERVALS[interval]


def check_lookback(interval: str, start, today=None) -> None:
    """Refuse, before asking, an intraday request yfinance cannot answer."""
    interval_minutes(interval)
    today = pd.Timestamp.now(tz="UTC").normalize().tz_localize(None) if today is None else pd.Timestamp(today)
    limit = YAHOO_LOOKBACK_DAYS[interval]
    first = today - pd.Timedelta(days=limit)
    if start is not None and pd.Timestamp(start) < first:
        longer = [i for i, d in YAHOO_LOOKBACK_DAYS.items() if d > limit and i != "1h"]
        hint = f"use interval='{longer[-1]}' ({YAHOO_LOOKBACK_DAYS[longer[-1]]} days) or " if longer else ""
        raise DataError(f"yfinance serves {interval} bars for the last {limit} days only (from {first:%Y-%m-%d}); "
                        f"start {pd.Timestamp(start):%Y-%m-%d} is earlier: {hint}load your own bar file")


def _instants(values: pd.Series, origin: str, row, tz: str | None, dayfirst: bool | None = None) -> pd.Series:
    """UTC instants from a timestamp column; naive clocks refused unless ``tz`` is given."""
    values = values.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        times = values
        if times.dt.tz is None:
            if tz is None:
                raise DataError(f"{origin}, {row(0)}: timestamp {values.iloc[0]} has no time zone; give times with "
                                "an offset (2025-10-10T10:57:00-04:00) or pass tz='America/New_York' (the file's clock)")
            times = _localize(times, tz, values, origin, row)
        return times.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_numeric_dtype(values):  # epoch stamps (Polygon ms, Databento ns, Unix s)
        number = values.astype(float)
        scale = number.abs().max()
        unit = "ns" if scale > 1e17 else "us" if scale > 1e14 else "ms" if scale > 1e11 else "s"
        return pd.to_datetime(number.astype("int64"), unit=unit, utc=True).astype("datetime64[ns, UTC]")
    text = values.astype("string").str.strip()
    aware = text.str.contains(_OFFSET, na=False)
    if not aware.all() and tz is None:
        i = _first(~aware)
        raise DataError(f"{origin}, {row(i)}: timestamp {values.iloc[i]!r} has no time zone; give times with an "
                        "offset (2025-10-10T10:57:00-04:00) or pass tz='America/New_York' (the file's clock)")
    if aware.any() and not aware.all():
        i = _first(~aware)
        raise DataError(f"{origin}, {row(i)}: timestamp {values.iloc[i]!r} has no offset while others do; "
                        "write every time with its offset")
    slashed = text.str.match(_SLASH_DATE, na=False)
    if slashed.any() and dayfirst is None:
        i = _first(slashed)
        raise DataError(f"{origin}, {row(i)}: timestamp {values.iloc[i]!r} is d/m/y or m/d/y; pass dayfirst=False "
                        "(month first, US exports) or dayfirst=True, or write ISO times")
    how = {"format": "mixed", "dayfirst": bool(dayfirst)} if slashed.any() else {"format": "ISO8601"}
    times = pd.to_datetime(text, errors="coerce", utc=bool(aware.all()), **how)
    bad = times.isna()
    if bad.any():
        i = _first(bad)
        raise DataError(f"{origin}, {row(i)}: unparseable timestamp {values.iloc[i]!r} (write ISO times, "
                        "2025-10-10T10:57:00-04:00)")
    if not aware.all():
        times = _localize(times, str(tz), values, origin, row)
    return times.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def _localize(times: pd.Series, tz: str, values: pd.Series, origin: str, row) -> pd.Series:
    try:
        return times.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    except Exception as exc:  # an unknown zone name
        raise DataError(f"{origin}: cannot use tz={tz!r} ({str(exc).splitlines()[0]}); give an IANA zone such as "
                        "'America/New_York'") from None


def validate_bars(frame: pd.DataFrame, origin: str = "bars", interval: str | None = None, tz: str | None = None,
                  header_lines: int | None = None, dayfirst: bool | None = None) -> pd.DataFrame:
    """Check a frame of bars and return it in the canonical shape (sorted by symbol, time).

    Columns by common vendor headers: a timestamp (``Datetime``, ``timestamp``, ``time``,
    ``ts_event``, ``t``, ...), ``symbol`` (or ``ticker``), ``open/high/low/close``
    (``close`` at least) and ``volume``. ``interval`` (e.g. ``"5m"``), when given, is
    checked against the spacing of the bars. Slashed dates (``10/10/2025 10:55``) need
    ``dayfirst`` (False: month first); ISO times need nothing.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{origin}: bars must be a pandas DataFrame, got {type(frame).__name__}")
    lowered = {c: str(c).strip().lower() for c in frame.columns}
    if {"date", "time"} <= set(lowered.values()):
        day = next(c for c, low in lowered.items() if low == "date")
        clock = next(c for c, low in lowered.items() if low == "time")
        text = frame[clock].astype("string").str.strip()
        if text.str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?").all():  # Date, Time columns (TradeStation, Kibot)
            frame = frame.assign(**{str(clock): frame[day].astype("string").str.strip() + " " + text})
        frame = frame.drop(columns=[day])  # else ``date`` is a derived label: ``time`` is the instant
        lowered.pop(day)
    frame = frame.rename(columns={c: "date" for c, low in lowered.items()
                                  if low in _TIME_ALIASES and "date" not in lowered.values()})
    frame = frame.rename(columns=_canonical_columns(frame.columns)).reset_index(drop=True)
    for needed in ("date", "symbol", "close"):
        if needed not in frame.columns:
            what = "timestamp" if needed == "date" else needed
            raise DataError(f"{origin}: no {what} column (columns: {', '.join(map(str, frame.columns))})")
    row = _row_namer(header_lines)
    symbols = frame["symbol"].astype("string").str.strip()
    if (symbols.isna() | (symbols == "")).any():
        raise DataError(f"{origin}, {row(_first(symbols.isna() | (symbols == '')))}: empty symbol")
    symbols = symbols.astype(str)
    times = _instants(frame["date"], origin, row, tz, dayfirst)
    if times.isna().any():
        i = _first(times.isna())
        raise DataError(f"{origin}, {row(i)}: local time {frame['date'].iloc[i]!s} does not exist or occurs twice "
                        f"in {tz} (a DST change); write it with its UTC offset")
    out = pd.DataFrame({"symbol": symbols, "time": times})
    for name in ("open", "high", "low", "close", "volume"):
        if name not in frame.columns:
            out[name] = np.nan
            continue
        out[name] = price_values(frame[name], name, symbols, times, origin, row, positive=name != "volume")
    if (out["volume"] < 0).any():
        i = _first(out["volume"] < 0)
        raise DataError(f"{origin}, {row(i)}: negative volume {out['volume'].iloc[i]:g}; fix the cell")
    low, high = out["low"], out["high"]
    broken = (high < low) | (out["close"] > high) | (out["close"] < low)
    if broken.any():
        i = _first(broken.fillna(False))
        raise DataError(f"{origin}, {row(i)}: bar at {out['time'].iloc[i]:%Y-%m-%d %H:%M} UTC has high "
                        f"{high.iloc[i]:g}, low {low.iloc[i]:g}, close {out['close'].iloc[i]:g}: the close must lie "
                        "within [low, high]; fix the bar")
    dup = out.duplicated(["symbol", "time"], keep="first")
    if dup.any():
        i = _first(dup)
        first = _first((out["symbol"] == out["symbol"].iloc[i]) & (out["time"] == out["time"].iloc[i]))
        raise DataError(f"{origin}, {row(i)}: duplicated bar {out['time'].iloc[i]:%Y-%m-%d %H:%M} UTC for "
                        f"{out['symbol'].iloc[i]} (first seen at {row(first)}); keep one bar per time")
    out = out.dropna(subset=["close"]).sort_values(["symbol", "time"], kind="stable", ignore_index=True)
    if interval is not None:
        _check_grid(out, interval_minutes(interval), origin)
    out.insert(2, "date", _local_dates(out))
    return out[list(BAR_COLUMNS)]


def _check_grid(bars: pd.DataFrame, minutes: int, origin: str) -> None:
    """The bars' usual spacing must be the interval. (Single uneven steps are allowed:
    Yahoo's hourly bars run 09:00, 09:30, 10:30 .. 15:30, 16:00, the bars at the session's
    edges cut short; missing bars leave wider steps.)"""
    step = pd.Timedelta(minutes=minutes).value
    for symbol, times in bars.groupby("symbol", sort=False)["time"]:
        gaps = np.diff(times.array.asi8)
        if len(gaps) == 0:
            continue
        values, counts = np.unique(gaps, return_counts=True)
        usual = values[np.argmax(counts)]
        if usual != step:
            i = int(np.flatnonzero(gaps == usual)[0])
            raise DataError(f"{origin}: {symbol} bars are mostly {usual / 6e10:g} min apart (e.g. "
                            f"{times.iloc[i]:%Y-%m-%d %H:%M} and {times.iloc[i + 1]:%H:%M} UTC), not {minutes} "
                            "as the interval says; give the right interval or resample the file")


def _local_dates(bars: pd.DataFrame) -> pd.Series:
    dates = pd.Series(pd.NaT, index=bars.index, dtype="datetime64[ns]")
    for symbol, idx in bars.groupby("symbol", sort=False).groups.items():
        local = bars.loc[idx, "time"].dt.tz_convert(exchange_zone(str(symbol)))
        dates[idx] = local.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")
    return dates


def bar_gaps(bars: pd.DataFrame, interval: str, within_hours: float = 4.0) -> pd.DataFrame:
    """Missing bars: one row per hole shorter than ``within_hours`` (longer ones are
    closures), with the symbol, the last bar before it, the first after and the minutes missing."""
    step = pd.Timedelta(minutes=interval_minutes(interval))
    within = pd.Timedelta(hours=within_hours)
    rows = []
    for symbol, times in bars.groupby("symbol", sort=False)["time"]:
        t = times.reset_index(drop=True)
        gap = t.diff()
        hole = (gap > step) & (gap < within)
        for i in np.flatnonzero(hole.to_numpy()):
            rows.append({"symbol": symbol, "after": t.iloc[i - 1], "before": t.iloc[i],
                         "missing_minutes": (gap.iloc[i] - step) / pd.Timedelta(minutes=1)})
    return pd.DataFrame(rows, columns=["symbol", "after", "before", "missing_minutes"])
