"""Roll-adjusted ("spliced") continuous futures prices.

A continuous front-month series (Yahoo ``ZS=F``) quotes the expiring contract up to a
roll day and the next contract from then on, so the return across the switch is the
market's move *plus* the calendar spread between the two contracts. The bundled data
hold no second contract series, so the spread cannot be read off; it is measured
against a fund that holds the same commodity's futures and rolls them inside its
portfolio without a price gap (the *roll benchmark*, :data:`ROLL_BENCHMARKS`: SOYB for
soybeans, WEAT for wheat, CPER for copper). On a roll day ``t`` with raw simple return
``r_t`` and benchmark return ``b_t`` the removed roll gap ``g_t`` is

    1 + g_t = (1 + r_t) / (1 + b_t),

i.e. the whole roll-day return is replaced by the benchmark's return that day.
Without a benchmark (or when it has no price that day) only the part of the roll-day
return beyond an ordinary move is removed: the log return is clipped to
``+-k * sigma_t`` (``k`` = 4 and ``sigma_t`` the MAD scale of the previous 60 sessions,
:func:`impact.rolls.robust_scale`, the detector's own band), ``rule = clip``. That
is only done where the switch is evidenced (the detector's ``volume_switch`` and
``after_switch`` days, or a user's roll calendar); a day flagged only by the ``gap``
test may be a genuine reaction, so without a benchmark it is kept (``rule = kept``).

The adjusted series is the ratio back-adjustment of the raw one, anchored at the last
price: ``P~_t = P_t * prod_{s > t} (1 + g_s)`` (the ratio, or proportional, back-adjustment
of continuous-contract data vendors, with the measured gap in place of the spread the
vendors read off the two contracts), so every non-roll return is
unchanged and each roll-day return becomes ``b_t`` (or the clipped move).

Caveats: the benchmark funds close at 16:00 ET while grains settle at 14:15 ET and
copper at 13:00 ET, news in between lands on different days; the funds hold deferred
contracts (SOYB: second and third to expire and November), whose moves differ from the
front month's; thin funds have stale closes (a stale close reads as a zero move).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .prices import price_series
from .rolls import detect_rolls, load_roll_calendar, product_root, robust_scale

#: Product root -> a fund holding that commodity's futures (rolls without a price gap).
ROLL_BENCHMARKS: dict[str, str] = {"ZS": "SOYB", "ZW": "WEAT", "HG": "CPER"}
#: Detector methods that evidence a contract switch (not just a large move).
SWITCH_METHODS = ("volume_switch", "after_switch", "calendar")
GAP_COLUMNS = ["symbol", "date", "method", "ret", "benchmark", "benchmark_ret", "gap", "rule"]


def roll_benchmark(symbol: str) -> str | None:
    """The roll benchmark of a futures symbol (``ZS_F`` -> ``SOYB``), None when there is none."""
    root = product_root(symbol)
    return ROLL_BENCHMARKS.get(root) if root else None


def roll_gaps(prices: pd.DataFrame, symbols=None, roll_days="auto", k: float = 4.0) -> pd.DataFrame:
    """The roll gap removed on each roll day (one row per symbol and roll day).

    ``prices``: tidy (``date, symbol, close[, volume]``), holding the roll benchmarks
    when they should be used. ``roll_days``: ``"auto"`` (:func:`impact.rolls.detect_rolls`)
    or a user roll calendar (DataFrame or CSV of ``symbol, date``). Columns: ``ret`` the
    raw simple return, ``benchmark``/``benchmark_ret`` the fund and its return (NaN when
    not used), ``gap`` the removed part (simple, ``1 + gap = (1 + ret) / (1 + benchmark_ret)``),
    ``rule`` one of ``benchmark:<fund>``, ``clip`` (the move beyond ``k`` robust
    standard deviations) or ``kept`` (gap 0). ``k`` is the detector's threshold.
    """
    if not {"date", "symbol", "close"}.issubset(prices.columns):
        raise DataError("roll adjustment needs tidy prices with date, symbol, close")
    rolls = (detect_rolls(prices, symbols) if isinstance(roll_days, str) and roll_days == "auto"
             else load_roll_calendar(roll_days))
    wanted = None if symbols is None else set([symbols] if isinstance(symbols, str) else symbols)
    if wanted is not None:
        rolls = rolls[rolls["symbol"].isin(wanted)]
    if rolls.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    closes = price_series(prices)
    rows = []
    for symbol, g in rolls.groupby("symbol", sort=True):
        if symbol not in closes:
            continue
        close = closes[symbol].dropna()
        ret = close.pct_change()
        scale = pd.Series(robust_scale(np.log1p(ret.to_numpy())), index=ret.index)
        fund = roll_benchmark(str(symbol))
        bench = closes[fund].dropna().pct_change() if fund in closes else pd.Series(dtype=float)
        # one row per day: a day flagged by several tests keeps its strongest evidence
        methods = g.groupby("date")["method"].agg(lambda m: next((x for x in SWITCH_METHODS if x in set(m)), "gap"))
        for day, method in methods.items():
            if day not in ret.index or not np.isfinite(ret[day]):
                continue
            r, b = float(ret[day]), float(bench.get(day, np.nan))
            if np.isfinite(b):
                rule, gap = f"benchmark:{fund}", (1 + r) / (1 + b) - 1
            elif method in SWITCH_METHODS and np.isfinite(scale[day]):
                band = k * float(scale[day])
                rule, gap = "clip", float(np.expm1(np.log1p(r) - np.clip(np.log1p(r), -band, band)))
            else:
                rule, gap = "kept", 0.0
            rows.append((str(symbol), pd.Timestamp(day), method, r, fund if np.isfinite(b) else "", b, gap, rule))
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def adjustment_factors(dates: pd.DatetimeIndex, gaps: pd.DataFrame) -> np.ndarray:
    """``F_t = prod_{s > t} (1 + g_s)`` on ``dates`` (one symbol's gaps): raw x F is back-adjusted,
    since each roll-day return ``P~_t / P~_{t-1}`` must become ``(P_t / P_{t-1}) / (1 + g_t)``."""
    dates = pd.DatetimeIndex(dates)
    growth = pd.Series(1.0, index=dates)
    if len(gaps):
        g = gaps.groupby("date")["gap"].sum()
        g = g[g.index.isin(dates)]
        growth.loc[g.index] = 1.0 + g.to_numpy()
    # product over later days only: reverse cumulative product, shifted by one
    after = np.cumprod(growth.to_numpy()[::-1])[::-1]
    return np.r_[after[1:], 1.0]


def splice_prices(prices: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """Tidy prices with the futures' price columns back-adjusted by ``gaps`` (:func:`roll_gaps`);
    other symbols unchanged. Volume is left as it is."""
    out = prices.copy()
    for symbol, g in gaps.groupby("symbol"):
        mask = (out["symbol"] == symbol).to_numpy()
        dates = pd.DatetimeIndex(pd.to_datetime(out.loc[mask, "date"]).dt.tz_localize(None).dt.normalize())
        order = np.argsort(dates.to_numpy(), kind="stable")
        factor = np.empty(len(dates))
        factor[order] = adjustment_factors(dates[order], g)
        for column in ("open", "high", "low", "close", "adj_close"):
            if column in out.columns:
                out.loc[mask, column] = pd.to_numeric(out.loc[mask, column], errors="coerce") * factor
    return out


def splice(prices: pd.DataFrame | None, roll_adjust: str = "splice", roll_days="auto") -> pd.DataFrame:
    """``EventStudy(..., roll_adjust="splice")``: tidy prices with every futures series
    back-adjusted at its roll days (``roll_days``: ``"auto"`` or a user calendar)."""
    if roll_adjust != "splice":
        raise DataError(f"unknown roll_adjust {roll_adjust!r} (choose 'splice' or None)")
    if prices is None or not {"date", "symbol", "close"}.issubset(prices.columns):
        raise DataError("roll_adjust='splice' needs tidy prices (date, symbol, close[, volume]), not returns or wide closes")
    if roll_days is None or roll_days is False:
        raise DataError("roll_adjust='splice' needs roll days: roll_days='auto' or a roll calendar, not None")
    return splice_prices(prices, roll_gaps(prices, None, roll_days))
