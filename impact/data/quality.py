"""Data-quality report: one row per finding, never an exception for bad values.

Issues (``issue`` column):

* ``duplicate_date`` - a second row for the same symbol and date;
* ``non_positive`` - a close (or open/high/low/adj close) <= 0;
* ``missing_session`` - a session of the asset's trading calendar (between its first
  and last row) with no price;
* ``non_session`` - a row on a date that is not a session of the calendar;
* ``stale`` - the close repeats the previous session's close exactly;
* ``extreme_return`` - a log return beyond ``extreme_k`` robust standard deviations
  (1.4826 x median absolute return of the previous 60 sessions) that is not a roll;
* ``roll`` - a futures roll day (:func:`impact.rolls.detect_rolls`).

Missing sessions are only as good as the calendar: an unknown symbol is checked
against XNYS and the ``detail`` says so.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import DataError
from ..events.assets import get_asset
from ..events.calendars import sessions
from .rolls import detect_rolls

COLUMNS = ["symbol", "date", "issue", "value", "detail"]
ISSUES = ("duplicate_date", "non_positive", "missing_session", "non_session", "stale", "extreme_return", "roll")


def check_prices(prices: pd.DataFrame, symbols: Iterable[str] | None = None, *, extreme_k: float = 6.0,
                 lookback: int = 60) -> pd.DataFrame:
    """Findings for a tidy price frame (``date, symbol, close``, optional OHLC/volume).

    Returns ``symbol, date, issue, value, detail`` sorted by symbol, date, issue.
    """

    if not {"symbol", "date", "close"}.issubset(prices.columns):
        raise DataError("check_prices needs a tidy frame with columns date, symbol, close")
    frame = prices.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    if symbols is not None:
        wanted = list(dict.fromkeys([symbols] if isinstance(symbols, str) else symbols))
        unknown = [s for s in wanted if s not in set(frame["symbol"])]
        if unknown:
            raise DataError(f"unknown symbol(s) {', '.join(unknown)}: not in the price data")
        frame = frame[frame["symbol"].isin(wanted)]
    rows: list[tuple] = []
    clean_parts = []
    for symbol, g in frame.groupby("symbol", sort=True):
        g = g.sort_values("date", kind="stable")
        dup = g["date"].duplicated(keep="first")
        for d, v in zip(g.loc[dup, "date"], g.loc[dup, "close"]):
            rows.append((symbol, d, "duplicate_date", v, "second row for this date (the first is kept)"))
        g = g[~dup]
        for column in ("open", "high", "low", "close", "adj_close"):
            if column in g.columns:
                bad = pd.to_numeric(g[column], errors="coerce") <= 0
                for d, v in zip(g.loc[bad, "date"], g.loc[bad, column]):
                    rows.append((symbol, d, "non_positive", v, f"{column} <= 0"))
        rows_dates = pd.DatetimeIndex(g["date"])  # a bad price is its own finding, not a missing session
        g = g[pd.to_numeric(g["close"], errors="coerce") > 0]
        if g.empty:
            continue
        asset = get_asset(str(symbol))
        note = "" if asset.known else " (unknown symbol: XNYS assumed)"
        try:
            cal = sessions(asset)
        except DataError as exc:
            rows.append((symbol, pd.NaT, "calendar", np.nan, str(exc)))
            cal = None
        dates = pd.DatetimeIndex(g["date"])
        if cal is not None:
            span = cal[(cal >= rows_dates.min()) & (cal <= rows_dates.max())]
            for d in span.difference(rows_dates):
                rows.append((symbol, d, "missing_session", np.nan, f"{asset.calendar} session without a price{note}"))
            if cal[-1] >= rows_dates.max():  # beyond the calendar's horizon nothing can be said
                for d in dates.difference(cal):
                    rows.append((symbol, d, "non_session", float(g.loc[g["date"] == d, "close"].iloc[0]),
                                 f"not a {asset.calendar} session{note}"))
        close = g["close"].to_numpy(dtype=float)
        same = np.r_[False, close[1:] == close[:-1]]
        for i in np.flatnonzero(same):
            rows.append((symbol, dates[i], "stale", close[i], f"close repeats {dates[i - 1]:%Y-%m-%d}"))
        clean_parts.append(g)
    clean = pd.concat(clean_parts, ignore_index=True) if clean_parts else frame.iloc[:0]
    rolls = detect_rolls(clean) if len(clean) else pd.DataFrame(columns=["symbol", "date", "method", "ret", "score"])
    for r in rolls.itertuples():
        what = {"volume_switch": f"volume x{r.score:.0f} (vendor switched contracts)",
                "after_switch": "session after a volume switch",
                "gap": f"return {r.score:+.1f} robust sd"}.get(r.method, r.method)
        rows.append((r.symbol, r.date, "roll", r.ret, f"{what}; roll window of contract month {r.contract_month}"))
    roll_keys = set(zip(rolls["symbol"], pd.to_datetime(rolls["date"])))
    for symbol, g in clean.groupby("symbol", sort=True):
        dates = pd.DatetimeIndex(g["date"])
        close = g["close"].to_numpy(dtype=float)
        ret = np.r_[np.nan, np.log(close[1:] / close[:-1])]
        scale = pd.Series(np.abs(ret)).shift(1).rolling(lookback, min_periods=20).median().to_numpy() * 1.4826
        with np.errstate(divide="ignore", invalid="ignore"):
            z = ret / scale
        for i in np.flatnonzero(np.abs(z) > extreme_k):
            if (symbol, dates[i]) not in roll_keys:
                rows.append((symbol, dates[i], "extreme_return", ret[i],
                             f"log return {ret[i]:+.2%} = {z[i]:+.1f} robust sd"))
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["date"] = pd.to_datetime(out["date"])
    return out.sort_values(["symbol", "date", "issue"], ignore_index=True)


def quality_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Counts per symbol and issue (one row per symbol, one column per issue)."""
    if findings.empty:
        return pd.DataFrame(columns=["symbol", *ISSUES])
    table = findings.pivot_table(index="symbol", columns="issue", values="detail", aggfunc="count", fill_value=0)
    table = table.reindex(columns=[c for c in ISSUES if c in table.columns] +
                          [c for c in table.columns if c not in ISSUES], fill_value=0)
    return table.reset_index().rename_axis(None, axis=1)
