"""Each asset's price rows as arrays, futures roll-adjusted (the backtester's "book").

With ``roll_adjust: splice`` (the default) a front-month futures series is
back-adjusted at its roll days (:mod:`impact.data.splice`): the roll-day return is
replaced by the roll benchmark's return (SOYB, WEAT, CPER) or, without one, clipped to
the detector's ordinary band. Entry, exits (stops, take-profit), sizing volatility,
daily marks and the learned signs all use the adjusted prices; the raw quotes are kept
beside them (``close_raw``, ``open_raw``) so every trade also carries its unadjusted
return and the roll gap it crossed. ``roll_adjust: none`` trades the raw quotes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.rolls import product_root
from ..data.splice import adjustment_factors, roll_benchmark, roll_gaps
from ..events.assets import get_asset
from .rules import BacktestRule
from .timing import ns


@dataclass
class Book:
    """One asset's timed price rows as arrays (row i = one session)."""

    symbol: str
    asset_class: str
    dates: np.ndarray       # datetime64[ns], naive session dates
    close: np.ndarray       # adjusted (== raw unless a futures roll was removed after this row)
    open: np.ndarray
    close_raw: np.ndarray
    open_raw: np.ndarray
    close_ns: np.ndarray    # UTC instants the close / open were struck (int64 ns)
    open_ns: np.ndarray
    gap: np.ndarray         # roll gap removed on this row's return (0: none)
    roll_rule: np.ndarray   # how it was measured ("" where no roll day)

    def __len__(self) -> int:
        return len(self.close)

    def rolls_between(self, i: int, j: int) -> tuple[list[str], list[str]]:
        """Adjusted roll days in rows (i, j] and their rules."""
        k = i + 1 + np.flatnonzero(self.roll_rule[i + 1:j + 1] != "")
        return ([f"{pd.Timestamp(d):%Y-%m-%d}" for d in self.dates[k]],
                list(dict.fromkeys(str(r) for r in self.roll_rule[k])))


def benchmarks_needed(assets: list[str]) -> list[str]:
    """The roll benchmarks of the rule's futures that are not traded themselves."""
    wanted = [roll_benchmark(a) for a in assets]
    return [b for b in dict.fromkeys(wanted) if b is not None and b not in assets]


def make_books(rule: BacktestRule, tables: dict[str, pd.DataFrame],
               prices: pd.DataFrame) -> tuple[dict[str, Book], pd.DataFrame, list[str]]:
    """Books of the rule's assets, the roll gaps removed (``impact.data.splice.roll_gaps``
    rows actually applied) and notes on what could not be measured."""
    futures = [a for a in rule.assets if product_root(a) is not None]
    gaps = pd.DataFrame(columns=["symbol", "date", "gap", "rule"])
    notes: list[str] = []
    if rule.roll_adjust == "splice" and futures:
        gaps = roll_gaps(prices, futures, rule.roll_days)
        have = set(prices["symbol"])
        for a in futures:
            fund = roll_benchmark(a)
            if fund is not None and fund not in have:
                notes.append(f"{a}: its roll benchmark {fund} is not in the prices, so roll days are "
                             "adjusted by clipping to the ordinary band instead")
    books = {}
    for symbol, rows in tables.items():
        dates = pd.DatetimeIndex(rows["date"])
        mine = gaps[gaps["symbol"] == symbol]
        factor = adjustment_factors(dates, mine)
        gap = np.zeros(len(dates))
        rule_at = np.full(len(dates), "", dtype=object)
        pos = dates.get_indexer(pd.DatetimeIndex(mine["date"]))
        ok = pos >= 0
        gap[pos[ok]] = mine["gap"].to_numpy(dtype=float)[ok]
        rule_at[pos[ok]] = mine["rule"].to_numpy()[ok]
        close_raw = rows["close"].to_numpy(dtype=float)
        open_raw = rows["open"].to_numpy(dtype=float)
        books[symbol] = Book(symbol, get_asset(symbol).asset_class, dates.to_numpy(), close_raw * factor,
                             open_raw * factor, close_raw, open_raw, ns(rows["close_utc"]), ns(rows["open_utc"]),
                             gap, rule_at)
    return books, gaps, notes
