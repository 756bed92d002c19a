"""SYNTHETIC intraday bars for the intraday tests (no real intraday data ships offline).

Every series here is made up: log prices built from chosen per-bar steps, so the
tests know the exact answer (an injected jump, a drift, a line on a benchmark).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from impact.data.bars import BAR_COLUMNS

NY = "America/New_York"


def session_times(days, start: str = "09:30", bars: int = 390, minutes: int = 1, tz: str = NY,
                  previous_evening: bool = False) -> pd.DatetimeIndex:
    """Bar start instants (UTC, ns): ``bars`` bars from ``start`` local on each day
    (on the evening before each day when ``previous_evening``)."""
    hours, mins = (int(x) for x in start.split(":"))
    out = []
    for day in pd.DatetimeIndex(days):
        first = day - pd.Timedelta(days=1 if previous_evening else 0) + pd.Timedelta(hours=hours, minutes=mins)
        local = pd.date_range(first, periods=bars, freq=f"{minutes}min").tz_localize(tz)
        out.append(local.tz_convert("UTC").as_unit("ns").asi8)
    return pd.DatetimeIndex(np.concatenate(out)).tz_localize("UTC")


def bars_from_steps(symbol: str, times: pd.DatetimeIndex, steps: np.ndarray, start: float = 100.0,
                    zone: str = NY) -> pd.DataFrame:
    """Bars whose log close moves by ``steps`` (bar j's open is bar j-1's close, so the
    first bar of a session opens at the previous close: no overnight gap)."""
    logp = np.log(start) + np.cumsum(steps)
    close = np.exp(logp)
    opened = np.exp(np.r_[np.log(start), logp[:-1]])
    local = times.tz_convert(zone).tz_localize(None).normalize()
    return pd.DataFrame({"symbol": symbol, "time": times, "date": local.astype("datetime64[ns]"), "open": opened,
                         "high": np.maximum(opened, close), "low": np.minimum(opened, close), "close": close,
                         "volume": 100.0})[list(BAR_COLUMNS)]


def bar_at(times: pd.DatetimeIndex, instant, minutes: int = 1) -> int:
    """Index of the bar that contains ``instant`` (its return is the first after the news)."""
    return int(np.searchsorted((times + pd.Timedelta(minutes=minutes)).asi8, pd.Timestamp(instant).value,
                               side="right"))


def random_walk(seed: int, days, sigma: float = 0.0005, **session) -> tuple[pd.DatetimeIndex, np.ndarray]:
    times = session_times(days, **session)
    return times, np.random.default_rng(seed).normal(0.0, sigma, len(times))
