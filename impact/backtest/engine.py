"""Turn a rule, a catalog and prices into trades, daily P&L and skipped signals.

Conventions (all per asset, on the asset's own price rows):

* Entry ``close``: the first close struck strictly after the announcement
  instant (day 0's close at the earliest). Entry ``next_open``: the first open
  struck strictly after it. See :mod:`impact.backtest.timing`.
* Exit: the close ``holding`` rows after a close entry, or ``holding - 1`` rows
  after an open entry (the entry session counts as the first), earlier when a
  stop-loss / take-profit level is crossed at a close, or (``opposite_event``)
  at the first close struck after the next announcement of the opposite
  direction anywhere in the catalog (not only among the filtered events).
* Returns are simple: ``side * (exit / entry - 1)``; costs and slippage are paid
  per side in basis points of notional, ``cost = 2 * bps / 1e4`` per round trip.
* P&L is ``weight * return_net`` per trade; daily P&L marks each open trade to
  market on the notional fixed at entry, so the daily series sums to the trades'.
* Front-month futures are roll-adjusted by default (:mod:`impact.backtest.rolls`):
  returns, exits, sizing and marks use the back-adjusted prices; ``entry_price`` and
  ``exit_price`` are the raw quotes, ``return_gross_raw`` the unadjusted return and
  ``roll_gap`` the part of it the crossed roll days (``roll_days``, measured by
  ``roll_rule``) removed. A trade holding through a day detected by
  :func:`impact.rolls.detect_rolls` is also flagged ``roll:YYYY-MM-DD``. Trades are
  never dropped on that basis.
* Learned signs (walk-forward): the side of a trade is the sign of the mean long
  return after earlier events of the same direction on the same asset, counting
  only outcomes whose exit close was struck strictly before this entry.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import datasets
from ..data.rolls import detect_rolls
from ..errors import DataError, SpecError
from ..events.align import event_instants
from ..events.catalog import Catalog, catalog_from_frame
from .rolls import Book, benchmarks_needed, make_books
from .rules import LEARNED, BacktestRule
from .timing import asset_prices, first_after, ns

TRADE_COLUMNS = [
    "event_id", "asset", "asset_class", "direction", "side", "sign", "announced_utc", "timing",
    "entry", "entry_date", "entry_utc", "entry_price", "exit_date", "exit_utc", "exit_price",
    "exit_reason", "sessions", "weight", "return_gross", "cost", "return_net", "pnl",
    "return_gross_raw", "return_net_raw", "pnl_raw", "roll_gap", "roll_days", "roll_rule", "flags",
]
NO_EVENT = np.iinfo(np.int64).max  # "no later opposite announcement"
SIGNAL_COLUMNS = ["event_id", "direction", "timezone", "announced", "timing", "opposite", "opposite_id"]


@dataclass
class Candidate:
    """Everything about a signal that does not depend on its side."""

    event_id: str
    asset: str
    direction: str
    announced: int       # UTC ns of the (latest possible) announcement instant
    timing: str
    book: Book
    entry_row: int
    entry_price: float   # adjusted
    entry_ns: int
    last_row: int        # the row of the holding-period exit
    opposite: int        # UTC ns of the next opposite-direction announcement (NO_EVENT: none)
    opposite_id: str

    @property
    def long_return(self) -> float:
        """Long return over the holding period (the outcome learned signs learn from)."""
        return float(self.book.close[self.last_row] / self.entry_price - 1.0)

    @property
    def horizon_exit_ns(self) -> int:
        """When that outcome is known."""
        return int(self.book.close_ns[self.last_row])


@dataclass
class Fill:
    """A traded candidate: side, weight, exit row and why."""

    c: Candidate
    sign: int
    weight: float
    exit_row: int
    reason: str
    cost: float

    @property
    def gross(self) -> float:
        return self.sign * (float(self.c.book.close[self.exit_row]) / self.c.entry_price - 1.0)


def _events(rule: BacktestRule, catalog: Catalog | pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events that trigger trades (the rule's filters applied) and the whole catalog."""
    if catalog is None:
        catalog = rule.load_catalog(filtered=False)
    if isinstance(catalog, pd.DataFrame):
        catalog = catalog_from_frame(catalog)
    selected = (catalog.filter(**rule.events) if rule.events else catalog).events
    if selected.empty:  # nothing to trade: say which filter, not fail later on an empty time axis
        where = f"field 'events' ({describe_filter(rule.events)})" if rule.events else f"catalog {rule.catalog!r}"
        raise SpecError(f"{rule.source}: {where}: matches no event among the catalog's {len(catalog.events)}; "
                        "widen the filter or check the catalog")
    return selected, catalog.events


def describe_filter(filters: dict) -> str:
    """``actor=China, kind=retaliation, start=2030-01-01``: an event filter as one line."""
    def text(value) -> str:
        return ",".join(map(str, value)) if isinstance(value, (list, tuple, set)) else str(value)
    return ", ".join(f"{key}={text(value)}" for key, value in filters.items())


OPPOSITE = {"escalation": "de-escalation", "de-escalation": "escalation"}


def signals(rule: BacktestRule, events: pd.DataFrame, everything: pd.DataFrame) -> pd.DataFrame:
    """One row per selected event: its instant (ns), timing rule and, with ``opposite_event``
    exits, the next announcement of the opposite direction anywhere in the catalog."""
    instants = event_instants(events).merge(events[["event_id", "direction", "timezone"]], on="event_id")
    out = pd.DataFrame({"event_id": instants["event_id"], "direction": instants["direction"],
                        "timezone": instants["timezone"], "announced": ns(instants["instant_hi"]),
                        "timing": np.where(instants["instant_lo"] == instants["instant_hi"], instants["rule"],
                                           instants["rule"] + ";latest_instant"),
                        "opposite": NO_EVENT, "opposite_id": ""})
    if rule.exit_on_opposite:
        every = event_instants(everything).merge(everything[["event_id", "direction"]], on="event_id")
        for direction, g in every.groupby("direction"):
            g = g.sort_values("instant_hi")
            times, ids = ns(g["instant_hi"]), g["event_id"].to_numpy()
            mine = (out["direction"] == OPPOSITE.get(str(direction))).to_numpy()
            k = np.searchsorted(times, out.loc[mine, "announced"].to_numpy(), side="right")
            found = k < len(times)
            out.loc[np.flatnonzero(mine)[found], "opposite"] = times[k[found]]
            out.loc[np.flatnonzero(mine)[found], "opposite_id"] = ids[k[found]]
    return out[SIGNAL_COLUMNS]


def candidates(rule: BacktestRule, sig: pd.DataFrame, books: dict[str, Book], skipped: list) -> list[Candidate]:
    """Entry and holding-period rows of every (signal, asset) with the prices to trade it."""
    announced = sig["announced"].to_numpy(dtype=np.int64)
    out = []
    offset = rule.holding if rule.entry == "close" else rule.holding - 1
    for symbol in rule.assets:
        book = books[symbol]
        n = len(book)
        if rule.entry == "close":
            pos = first_after(book.close_ns, announced)
            prices_at, ns_at = book.close, book.close_ns
        else:
            valid = np.flatnonzero(np.isfinite(book.open))
            if not len(valid):
                raise SpecError(f"{rule.source}: field 'entry': next_open needs open prices, "
                                f"but {symbol} has none (use entry: close)")
            k = first_after(book.open_ns[valid], announced)
            pos = np.where(k < len(valid), valid[np.minimum(k, len(valid) - 1)], n)
            prices_at, ns_at = book.open, book.open_ns
        for j, ev in enumerate(sig.itertuples(index=False)):
            i = int(pos[j])
            if i >= n:
                skipped.append((ev.event_id, symbol, "no price struck after the announcement"))
                continue
            if i + offset >= n:
                skipped.append((ev.event_id, symbol, f"holding period of {rule.holding} sessions runs past "
                                f"the last price ({pd.Timestamp(book.dates[-1]):%Y-%m-%d})"))
                continue
            out.append(Candidate(ev.event_id, symbol, ev.direction, int(ev.announced), ev.timing, book, i,
                                 float(prices_at[i]), int(ns_at[i]), i + offset, int(ev.opposite),
                                 ev.opposite_id))
    return sorted(out, key=lambda c: (c.entry_ns, c.asset, c.event_id))


def _learned_side(c: Candidate, pool: dict[tuple[str, str], list[Candidate]],
                  min_events: int) -> tuple[int | None, str]:
    """Walk-forward sign: only outcomes fully observed before ``c``'s entry count."""
    past = [p.long_return for p in pool.get((c.asset, c.direction), ()) if p.horizon_exit_ns < c.entry_ns]
    if len(past) < min_events:
        return None, f"learned signs: {len(past)} earlier {c.direction} outcome(s) on {c.asset}, need {min_events}"
    mean = float(np.mean(past))
    if mean == 0:
        return None, "learned signs: earlier outcomes average exactly zero"
    return (1 if mean > 0 else -1), ""


def rule_sides(rule: BacktestRule, cands: list[Candidate]) -> Callable[[Candidate], tuple[int | None, str]]:
    """The rule's side for a candidate: fixed per (asset, direction), or learned walk-forward."""
    if rule.signs != LEARNED:
        return lambda c: (rule.side(c.asset, c.direction), f"no position for a {c.direction} event on {c.asset}")
    pool: dict[tuple[str, str], list[Candidate]] = {}
    for c in cands:
        pool.setdefault((c.asset, c.direction), []).append(c)
    return lambda c: _learned_side(c, pool, rule.learning.min_events)


def _exit(rule: BacktestRule, c: Candidate, sign: int) -> tuple[int, str]:
    """Row and reason of the exit: the holding period, the first close past a limit, or
    the first close struck after the next announcement of the opposite direction."""
    first = c.entry_row + (1 if rule.entry == "close" else 0)  # an open entry can exit at its own close
    last, reason = c.last_row, "holding"
    if rule.exit_on_opposite and c.opposite != NO_EVENT:
        row = max(int(np.searchsorted(c.book.close_ns, c.opposite, side="right")), first)
        if row < last:
            last, reason = row, f"opposite_event:{c.opposite_id}"
    if rule.stop_loss_bps is None and rule.take_profit_bps is None:
        return last, reason
    path = sign * (c.book.close[first:last + 1] / c.entry_price - 1.0)
    for j, move in enumerate(path):
        if rule.stop_loss_bps is not None and move <= -rule.stop_loss_bps / 1e4:
            return first + j, "stop_loss"
        if rule.take_profit_bps is not None and move >= rule.take_profit_bps / 1e4:
            return first + j, "take_profit"
    return last, reason


def _weight(rule: BacktestRule, c: Candidate) -> tuple[float | None, str]:
    if rule.sizing.method == "equal":
        return 1.0, ""
    # Volatility known at entry: closes up to the entry close (close entry) or the
    # previous close (open entry).
    last = c.entry_row if rule.entry == "close" else c.entry_row - 1
    closes = c.book.close[max(0, last - rule.sizing.lookback):last + 1]
    rets = np.diff(closes) / closes[:-1]
    if len(rets) < rule.sizing.lookback:
        return None, f"volatility sizing: {len(rets)} returns before entry, need {rule.sizing.lookback}"
    sigma = float(np.std(rets, ddof=1))
    if not sigma > 0:
        return None, "volatility sizing: zero volatility before entry"
    return min(rule.sizing.target / sigma, rule.sizing.max_weight), ""


def trade(rule: BacktestRule, cands: list[Candidate], side_of: Callable[[Candidate], tuple[int | None, str]],
          skipped: list) -> list[Fill]:
    """The rule on time-ordered candidates: side, overlap, sizing, exit and costs."""
    fills = []
    open_until: dict[str, tuple[int, str]] = {}
    for c in cands:
        sign, why = side_of(c)
        if not sign:
            skipped.append((c.event_id, c.asset, why))
            continue
        busy = open_until.get(c.asset)
        if rule.overlap == "skip" and busy is not None and c.entry_ns < busy[0]:
            skipped.append((c.event_id, c.asset, f"overlaps the open {c.asset} trade of {busy[1]}"))
            continue
        weight, why = _weight(rule, c)
        if weight is None:
            skipped.append((c.event_id, c.asset, why))
            continue
        exit_row, reason = _exit(rule, c, sign)
        open_until[c.asset] = (int(c.book.close_ns[exit_row]), c.event_id)
        fills.append(Fill(c, sign, weight, exit_row, reason, 2.0 * rule.cost_bps(c.book.asset_class) / 1e4))
    return fills


def asset_tables(rule: BacktestRule, prices: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each asset's timed price rows (see :func:`impact.backtest.timing.asset_prices`)."""
    check_assets(rule, prices)
    return {symbol: asset_prices(prices, symbol) for symbol in rule.assets}


def _utc(value: int) -> pd.Timestamp:
    return pd.Timestamp(value, tz="UTC")


def _row(rule: BacktestRule, f: Fill) -> dict:
    c, b = f.c, f.c.book
    raw_entry = (b.close_raw if rule.entry == "close" else b.open_raw)[c.entry_row]
    raw_gross = f.sign * (b.close_raw[f.exit_row] / raw_entry - 1.0)
    days, rules = b.rolls_between(c.entry_row, f.exit_row)
    gross = f.gross
    return {
        "event_id": c.event_id, "asset": c.asset, "asset_class": b.asset_class, "direction": c.direction,
        "side": "long" if f.sign > 0 else "short", "sign": f.sign, "announced_utc": _utc(c.announced),
        "timing": c.timing, "entry": rule.entry, "entry_date": pd.Timestamp(b.dates[c.entry_row]),
        "entry_utc": _utc(c.entry_ns), "entry_price": float(raw_entry),
        "exit_date": pd.Timestamp(b.dates[f.exit_row]), "exit_utc": _utc(b.close_ns[f.exit_row]),
        "exit_price": float(b.close_raw[f.exit_row]), "exit_reason": f.reason,
        "sessions": f.exit_row - c.entry_row + (rule.entry == "next_open"), "weight": f.weight,
        "return_gross": gross, "cost": f.cost, "return_net": gross - f.cost, "pnl": f.weight * (gross - f.cost),
        "return_gross_raw": raw_gross, "return_net_raw": raw_gross - f.cost,
        "pnl_raw": f.weight * (raw_gross - f.cost), "roll_gap": raw_gross - gross,
        "roll_days": ";".join(days), "roll_rule": ";".join(rules),
    }


@dataclass
class Simulation:
    """What one run of a rule produced: the tables and the engine objects behind them."""

    trades: pd.DataFrame
    daily: pd.DataFrame
    skipped: pd.DataFrame
    signals: pd.DataFrame
    candidates: list[Candidate]
    fills: list[Fill]


def run_rule(rule: BacktestRule, prices: pd.DataFrame, catalog: Catalog | pd.DataFrame | None,
             books: dict[str, Book], side_of: Callable[[Candidate], tuple[int | None, str]] | None = None
             ) -> Simulation:
    """The rule on the books (``side_of`` replaces the rule's signs, e.g. in-sample signs)."""
    events, everything = _events(rule, catalog)
    skipped: list[tuple[str, str, str]] = []
    sig = signals(rule, events, everything)
    cands = candidates(rule, sig, books, skipped)
    fills = trade(rule, cands, side_of or rule_sides(rule, cands), skipped)
    frame = pd.DataFrame([_row(rule, f) for f in fills], columns=[c for c in TRADE_COLUMNS if c != "flags"])
    frame["flags"] = _roll_flags(frame, prices)
    daily = _daily_pnl(frame, fills, rule)
    frame["cum_pnl"] = frame["pnl"].cumsum()
    skipped_frame = pd.DataFrame(skipped, columns=["event_id", "asset", "reason"])
    return Simulation(frame, daily, skipped_frame, sig, cands, fills)


def simulate(rule: BacktestRule, prices: pd.DataFrame | None = None,
             catalog: Catalog | pd.DataFrame | None = None,
             tables: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Trades, daily P&L and skipped signals for ``rule``.

    ``prices`` defaults to the bundled sample (``impact.datasets.load_prices``, with the
    roll benchmarks of the rule's futures); ``catalog`` to the rule's catalog. The rule's
    event filters apply to either.
    """
    if prices is None:
        prices = datasets.load_prices(rule.assets + benchmarks_needed(rule.assets))
    books = make_books(rule, tables if tables is not None else asset_tables(rule, prices), prices)[0]
    sim = run_rule(rule, prices, catalog, books)
    return sim.trades, sim.daily, sim.skipped


def _roll_flags(trades: pd.DataFrame, prices: pd.DataFrame) -> pd.Series:
    """``roll:YYYY-MM-DD;...`` for detected futures roll days inside (entry, exit]."""
    flags = pd.Series("", index=trades.index, dtype=object)
    if trades.empty:
        return flags
    rolls = detect_rolls(prices, sorted(set(trades["asset"])))
    if rolls.empty:
        return flags
    by_asset = {a: pd.DatetimeIndex(sorted(set(g["date"]))) for a, g in rolls.groupby("symbol")}
    for k, t in trades.iterrows():
        days = by_asset.get(t["asset"])
        if days is not None:
            inside = days[(days > t["entry_date"]) & (days <= t["exit_date"])]
            flags.at[k] = ";".join(f"roll:{d:%Y-%m-%d}" for d in inside)
    return flags


def _daily_pnl(trades: pd.DataFrame, fills: list[Fill], rule: BacktestRule) -> pd.DataFrame:
    """Mark-to-market P&L per date on the (adjusted) closes; costs booked on entry and exit dates."""
    pieces = []
    for t, f in zip(trades.itertuples(index=False), fills):
        i, j = f.c.entry_row, f.exit_row
        close = f.c.book.close[i:j + 1]
        dates = f.c.book.dates[i:j + 1]
        entry_price = f.c.entry_price
        notional = t.weight * t.sign / entry_price
        move = np.diff(close, prepend=close[0]) * notional
        if rule.entry == "next_open":
            move[0] = (close[0] - entry_price) * notional
        half = t.weight * t.cost / 2.0
        move[0] -= half
        move[-1] -= half
        held = np.ones(len(dates), dtype=int)
        if rule.entry == "close":
            held[0] = 0  # bought at that close: not exposed during the entry session
        pieces.append(pd.DataFrame({"date": dates, "pnl": move, "open_positions": held}))
    if not pieces:
        return pd.DataFrame(columns=["date", "pnl", "open_positions", "cum_pnl", "drawdown"])
    daily = pd.concat(pieces).groupby("date", as_index=False).sum()
    daily["cum_pnl"] = daily["pnl"].cumsum()
    peak = np.maximum.accumulate(np.maximum(daily["cum_pnl"].to_numpy(), 0.0))
    daily["drawdown"] = daily["cum_pnl"] - peak
    return daily


def check_assets(rule: BacktestRule, prices: pd.DataFrame) -> None:
    """Every asset of the rule must have prices (the error names the spec field)."""
    if "symbol" not in prices.columns:
        raise DataError("backtest prices must be tidy: columns date, symbol, close[, adj_close, open]")
    missing = [a for a in rule.assets if a not in set(prices["symbol"].unique())]
    if missing:
        raise DataError(f"{rule.source}: field 'assets': no prices for {missing[0]}")
