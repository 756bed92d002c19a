"""Roll days in continuous (front-month) futures series.

A "continuous" series such as Yahoo's ``ZS=F`` quotes one contract until it expires
and then the next one, with no back-adjustment, so the return on the switch day
mixes two contracts: a fake return of several percent (e.g. ZW=F +4.7% on
2025-05-15 while the WEAT ETF made +1.35%). Such days must not enter the
estimation of normal returns and should be flagged inside event windows.

A day is a roll day when it lies in the roll window of a listed contract month of
the product's cycle (CBOT grains, COMEX metals, ICE cotton; exchange contract specs)
and either

* ``volume_switch``: volume jumps by a factor of at least ``volume_jump`` from a tiny
  expiring-contract volume (the vendor switched contracts); the switch day and the
  next session are flagged, since the vendor's close and volume may switch a day
  apart; volume 0 counts as missing; or
* ``gap``: the return is more than ``k`` robust standard deviations from zero, the
  scale being 1.4826 x the median absolute return of the previous ``lookback``
  sessions (a MAD estimate, Rousseeuw & Croux 1993), so past rolls do not inflate it.

Users can also pass their own roll calendar (``symbol, date``), see
:func:`load_roll_calendar`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..events.assets import registry
from .prices import price_series

MONTH_CODES = "FGHJKMNQUVXZ"  # Jan..Dec


@dataclass(frozen=True)
class RollRule:
    """Contract cycle and where (relative to the contract month) the vendor rolls."""

    cycle: str            # listed month codes, e.g. "HKNUZ"
    window: tuple[int, int]  # calendar days relative to the 1st of the contract month, inclusive
    description: str

    def months(self) -> list[int]:
        return [MONTH_CODES.index(c) + 1 for c in self.cycle]


# Yahoo keeps an expiring CBOT grain until its last trading day (the business day
# before the 15th of the contract month) and COMEX metals until about first notice
# (the last business day of the month before); ICE cotton vendors roll around first
# notice, 5 business days before the contract month, or earlier.
_GRAINS = (9, 20)
RULES: dict[str, RollRule] = {
    "ZS": RollRule("FHKNQUX", _GRAINS, "CBOT soybeans: Jan Mar May Jul Aug Sep Nov"),
    "ZC": RollRule("HKNUZ", _GRAINS, "CBOT corn: Mar May Jul Sep Dec"),
    "ZW": RollRule("HKNUZ", _GRAINS, "CBOT wheat: Mar May Jul Sep Dec"),
    "HG": RollRule("HKNUZ", (-12, 2), "COMEX copper: Mar May Jul Sep Dec (active months)"),
    "GC": RollRule("GJMQVZ", (-12, 2), "COMEX gold: Feb Apr Jun Aug Oct Dec (active months)"),
    "CT": RollRule("HKNVZ", (-20, 2), "ICE cotton No.2: Mar May Jul Oct Dec"),
}


def product_root(symbol: str) -> str | None:
    """``ZS_F``/``ZS=F`` -> ``ZS``; ``CT1`` -> ``CT`` (via the registry's Yahoo ticker)."""

    table = registry()
    ticker = table.loc[symbol, "yahoo"] if symbol in table.index else symbol
    for candidate in (ticker, symbol):
        head = str(candidate).replace("=F", "").replace("_F", "").rstrip("0123456789")
        if head in RULES:
            return head
    return None


def _window_months(dates: pd.DatetimeIndex, rule: RollRule) -> np.ndarray:
    """For each date, the contract month (numpy datetime64[M]) whose roll window holds it, or NaT."""
    days = pd.DatetimeIndex(dates).to_numpy().astype("datetime64[D]")
    own = days.astype("datetime64[M]")
    listed = np.zeros(13, dtype=bool)
    listed[rule.months()] = True
    lo, hi = rule.window
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[M]")
    # a window spans at most a month either side of its contract month
    for shift in (-1, 0, 1, 2):
        month = own + np.timedelta64(shift, "M")
        delta = (days - month.astype("datetime64[D]")).astype(int)
        hit = listed[month.astype(int) % 12 + 1] & (delta >= lo) & (delta <= hi) & np.isnat(out)
        out[hit] = month[hit]
    return out


def in_roll_window(dates: pd.DatetimeIndex, rule: RollRule) -> np.ndarray:
    """True where a date lies in the roll window of some contract month of ``rule``."""
    return ~np.isnat(_window_months(dates, rule))


def robust_scale(log_returns: np.ndarray, lookback: int = 60) -> np.ndarray:
    """1.4826 x the median absolute return of the previous ``lookback`` sessions (at least 20):
    a MAD scale from past returns only (Rousseeuw & Croux 1993), not inflated by past rolls."""
    past = pd.Series(np.abs(np.asarray(log_returns, dtype=float))).shift(1)
    return past.rolling(lookback, min_periods=20).median().to_numpy() * 1.4826


def detect_rolls(prices: pd.DataFrame, symbols=None, *, k: float = 4.0, lookback: int = 60,
                 volume_jump: float = 20.0) -> pd.DataFrame:
    """Roll days of the futures series in a tidy price frame.

    Returns ``symbol, date, method, ret, score, contract_month``: one row per flagged
    session; ``method`` is ``volume_switch`` (score: the volume ratio), ``after_switch``
    (the session after it; score: the switch's ratio) or ``gap`` (score: robust z).
    Symbols whose product has no known cycle are skipped.
    """
    columns = ["symbol", "date", "method", "ret", "score", "contract_month"]
    if not {"symbol", "date", "close"}.issubset(prices.columns):
        raise DataError("detect_rolls needs a tidy frame with symbol, date, close")
    wanted = None if symbols is None else set([symbols] if isinstance(symbols, str) else symbols)
    roots = {s: product_root(str(s)) for s in pd.unique(prices["symbol"])}
    roots = {s: r for s, r in roots.items() if r is not None and (wanted is None or s in wanted)}
    prices = prices[prices["symbol"].isin(list(roots))]  # only futures go through the tests
    rows = []
    for symbol, g in prices.groupby("symbol", sort=True):
        rule = RULES[str(roots[symbol])]
        g = g.sort_values("date")
        dates = pd.DatetimeIndex(g["date"])
        close = g["close"].to_numpy(dtype=float)
        ret = np.full(len(close), np.nan)
        ret[1:] = np.log(close[1:] / close[:-1])
        months = _window_months(dates, rule)
        window = ~np.isnat(months)
        scale = robust_scale(ret, lookback)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = ret / scale
        gap = window & (np.abs(z) > k)
        vol_flag = switch = np.zeros(len(close), dtype=bool)
        ratio = np.full(len(close), np.nan)
        if "volume" in g.columns:
            vol = g["volume"].to_numpy(dtype=float)
            vol = np.where(vol > 0, vol, np.nan)  # volume 0 is "missing" in the vendor data
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio[1:] = vol[1:] / vol[:-1]
            switch = window & (ratio >= volume_jump)
            vol_flag = switch.copy()
            vol_flag[1:] |= switch[:-1]  # the session after the switch too
        for i in np.flatnonzero(vol_flag | gap):
            if vol_flag[i] and switch[i]:
                method, score = "volume_switch", ratio[i]
            elif vol_flag[i]:
                method, score = "after_switch", ratio[i - 1]
            else:
                method, score = "gap", z[i]
            rows.append((str(symbol), dates[i], method, ret[i], float(score), str(months[i])))
    return pd.DataFrame(rows, columns=columns)


def load_roll_calendar(calendar) -> pd.DataFrame:
    """A user's roll calendar (DataFrame or CSV path) with ``symbol`` (or ``asset``) and ``date``."""
    origin = "roll calendar"
    if not isinstance(calendar, pd.DataFrame):
        origin = str(calendar)
        path = Path(calendar)
        if not path.is_file():
            raise DataError(f"{path}: no such roll calendar file")
        calendar = pd.read_csv(path, dtype=str)
    frame = calendar.rename(columns={"asset": "symbol"})
    missing = {"symbol", "date"} - set(frame.columns)
    if missing:
        raise DataError(f"{origin}: needs columns symbol, date (missing {', '.join(sorted(missing))})")
    dates = pd.to_datetime(frame["date"], errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(f"{origin}, row {i + 1}: unparseable date {frame['date'].iloc[i]!r}")
    return pd.DataFrame({"symbol": frame["symbol"].astype(str), "date": dates.dt.normalize(),
                         "method": "calendar", "ret": np.nan, "score": np.nan, "contract_month": ""})


def roll_exclusions(prices: pd.DataFrame | None, roll_days="auto", symbols=None) -> pd.DataFrame | None:
    """Roll days as ``EventStudy`` estimation exclusions (``asset, date, reason='roll'``).

    ``roll_days``: ``"auto"`` detects them in ``prices`` (tidy with volume: both tests;
    wide closes: the gap test only); None/False disables; a DataFrame or CSV path is a user roll calendar.
    """
    if roll_days is None or roll_days is False:
        return None
    if isinstance(roll_days, str) and roll_days == "auto":
        if prices is None:
            return None  # returns only: no price levels to test
        if not {"symbol", "date", "close"}.issubset(prices.columns):
            # wide closes: no volume, so only the gap test can speak

            closes = {k: v for k, v in price_series(prices).items() if product_root(k) is not None}
            if not closes:
                return None
            prices = pd.concat([pd.DataFrame({"date": v.index, "symbol": k, "close": v.to_numpy()})
                                for k, v in closes.items()], ignore_index=True)
        rolls = detect_rolls(prices, symbols)
    else:
        rolls = load_roll_calendar(roll_days)
    if rolls.empty:
        return None
    return pd.DataFrame({"asset": rolls["symbol"], "date": pd.to_datetime(rolls["date"]), "reason": "roll"})
