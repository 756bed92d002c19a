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
* Front-month futures are not roll-adjusted: a trade whose holding period
  contains a roll day detected by :func:`impact.rolls.detect_rolls` is flagged
  ``roll:YYYY-MM-DD`` (its P&L includes the contract switch). Trades are never
  dropped or adjusted on that basis: the detector looks at later prices and
  volumes, and a roll-window gap can be a genuine reaction.
* Learned signs (walk-forward): the side of a trade is the sign of the mean long
  return after earlier events of the same direction on the same asset, counting
  only outcomes whose exit close was struck strictly before this entry.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import datasets
from ..data.rolls import detect_rolls
from ..errors import DataError, SpecError
from ..events.align import event_instants
from ..events.assets import get_asset
from ..events.catalog import Catalog, catalog_from_frame
from .rules import LEARNED, BacktestRule
from .timing import asset_prices, first_after, ns

TRADE_COLUMNS = [
    "event_id", "asset", "asset_class", "direction", "side", "sign", "announced_utc", "timing",
    "entry", "entry_date", "entry_utc", "entry_price", "exit_date", "exit_utc", "exit_price",
    "exit_reason", "sessions", "weight", "return_gross", "cost", "return_net", "pnl", "flags",
]


@dataclass
class Candidate:
    """Everything about a signal that does not depend on its side."""

    event_id: str
    asset: str
    direction: str
    announced: pd.Timestamp
    timing: str
    rows: pd.DataFrame  # the asset's price rows
    entry_row: int
    entry_price: float
    entry_utc: pd.Timestamp
    last_row: int  # the row of the holding-period exit
    long_return: float = float("nan")  # long return over the holding period (the outcome learned from)
    horizon_exit_utc: pd.Timestamp | None = None  # when that outcome is known

    def __post_init__(self) -> None:
        self.long_return = float(self.rows["close"].iat[self.last_row] / self.entry_price - 1.0)
        self.horizon_exit_utc = self.rows["close_utc"].iat[self.last_row]


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


def _candidates(rule: BacktestRule, events: pd.DataFrame, tables: dict[str, pd.DataFrame],
                skipped: list) -> list[Candidate]:
    instants = event_instants(events).merge(events[["event_id", "direction"]], on="event_id")
    announced = ns(instants["instant_hi"])
    out = []
    for symbol in rule.assets:
        rows = tables[symbol]
        n = len(rows)
        if rule.entry == "close":
            pos = first_after(ns(rows["close_utc"]), announced)
            prices_at = rows["close"].to_numpy()
            utc_at = rows["close_utc"]
        else:
            valid = np.flatnonzero(rows["open"].notna().to_numpy())
            if not len(valid):
                raise SpecError(f"{rule.source}: field 'entry': next_open needs open prices, "
                                f"but {symbol} has none (use entry: close)")
            k = first_after(ns(rows["open_utc"].iloc[valid]), announced)
            pos = np.where(k < len(valid), valid[np.minimum(k, len(valid) - 1)], n)
            prices_at = rows["open"].to_numpy()
            utc_at = rows["open_utc"]
        offset = rule.holding if rule.entry == "close" else rule.holding - 1
        for j, ev in enumerate(instants.itertuples(index=False)):
            i = int(pos[j])
            if i >= n:
                skipped.append((ev.event_id, symbol, "no price struck after the announcement"))
                continue
            if i + offset >= n:
                skipped.append((ev.event_id, symbol, f"holding period of {rule.holding} sessions runs past "
                                f"the last price ({rows['date'].iat[-1]:%Y-%m-%d})"))
                continue
            timing = ev.rule if ev.instant_lo == ev.instant_hi else f"{ev.rule};latest_instant"
            out.append(Candidate(ev.event_id, symbol, ev.direction, ev.instant_hi, timing, rows, i,
                                 float(prices_at[i]), utc_at.iat[i], i + offset))
    return out


def _learned_side(c: Candidate, pool: dict[tuple[str, str], list[Candidate]],
                  min_events: int) -> tuple[int | None, str]:
    """Walk-forward sign: only outcomes fully observed before ``c``'s entry count."""
    past = [p.long_return for p in pool.get((c.asset, c.direction), ())
            if p.horizon_exit_utc < c.entry_utc]
    if len(past) < min_events:
        return None, f"learned signs: {len(past)} earlier {c.direction} outcome(s) on {c.asset}, need {min_events}"
    mean = float(np.mean(past))
    if mean == 0:
        return None, "learned signs: earlier outcomes average exactly zero"
    return (1 if mean > 0 else -1), ""


OPPOSITE = {"escalation": "de-escalation", "de-escalation": "escalation"}


def _opposite_events(events: pd.DataFrame) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per direction, the sorted latest-possible instants (ns) and ids of the catalog's events."""
    instants = event_instants(events).merge(events[["event_id", "direction"]], on="event_id")
    out = {}
    for direction, g in instants.groupby("direction"):
        g = g.sort_values("instant_hi")
        out[str(direction)] = (ns(g["instant_hi"]), list(g["event_id"]))
    return out


def _exit(rule: BacktestRule, c: Candidate, sign: int,
          opposite: dict[str, tuple[np.ndarray, list[str]]]) -> tuple[int, str]:
    """Row and reason of the exit: the holding period, the first close past a limit, or
    the first close struck after the next announcement of the opposite direction."""
    first = c.entry_row + (1 if rule.entry == "close" else 0)  # an open entry can exit at its own close
    last, reason = c.last_row, "holding"
    if rule.exit_on_opposite and OPPOSITE.get(c.direction) in opposite:
        times, ids = opposite[OPPOSITE[c.direction]]
        k = int(np.searchsorted(times, pd.Timestamp(c.announced).as_unit("ns").value, side="right"))
        if k < len(times):
            row = max(int(first_after(ns(c.rows["close_utc"]), times[k:k + 1])[0]), first)
            if row < last:
                last, reason = row, f"opposite_event:{ids[k]}"
    if rule.stop_loss_bps is None and rule.take_profit_bps is None:
        return last, reason
    closes = c.rows["close"].to_numpy()[first:last + 1]
    path = sign * (closes / c.entry_price - 1.0)
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
    closes = c.rows["close"].to_numpy()[max(0, last - rule.sizing.lookback):last + 1]
    rets = np.diff(closes) / closes[:-1]
    if len(rets) < rule.sizing.lookback:
        return None, f"volatility sizing: {len(rets)} returns before entry, need {rule.sizing.lookback}"
    sigma = float(np.std(rets, ddof=1))
    if not sigma > 0:
        return None, "volatility sizing: zero volatility before entry"
    return min(rule.sizing.target / sigma, rule.sizing.max_weight), ""


def asset_tables(rule: BacktestRule, prices: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each asset's timed price rows (see :func:`impact.backtest.timing.asset_prices`)."""
    check_assets(rule, prices)
    return {symbol: asset_prices(prices, symbol) for symbol in rule.assets}


def simulate(rule: BacktestRule, prices: pd.DataFrame | None = None,
             catalog: Catalog | pd.DataFrame | None = None,
             tables: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Trades, daily P&L and skipped signals for ``rule``.

    ``prices`` defaults to the bundled sample (``impact.datasets.load_prices``);
    ``catalog`` to the rule's catalog. The rule's event filters apply to either.
    """
    if prices is None:
        prices = datasets.load_prices(rule.assets)
    if tables is None:
        tables = asset_tables(rule, prices)
    events, everything = _events(rule, catalog)
    opposite = _opposite_events(everything) if rule.exit_on_opposite else {}
    skipped: list[tuple[str, str, str]] = []
    candidates = sorted(_candidates(rule, events, tables, skipped), key=lambda c: (c.entry_utc, c.asset, c.event_id))
    pool: dict[tuple[str, str], list[Candidate]] = {}
    for c in candidates:
        pool.setdefault((c.asset, c.direction), []).append(c)
    trades, paths = [], []
    open_until: dict[str, tuple[pd.Timestamp, str]] = {}
    for c in candidates:
        if rule.signs == LEARNED:
            sign, why = _learned_side(c, pool, rule.learning.min_events)
        else:
            sign = rule.side(c.asset, c.direction)
            why = f"no position for a {c.direction} event on {c.asset}"
        if not sign:
            skipped.append((c.event_id, c.asset, why))
            continue
        busy = open_until.get(c.asset)
        if rule.overlap == "skip" and busy is not None and c.entry_utc < busy[0]:
            skipped.append((c.event_id, c.asset, f"overlaps the open {c.asset} trade of {busy[1]}"))
            continue
        weight, why = _weight(rule, c)
        if weight is None:
            skipped.append((c.event_id, c.asset, why))
            continue
        exit_row, reason = _exit(rule, c, sign, opposite)
        exit_price = float(c.rows["close"].iat[exit_row])
        gross = sign * (exit_price / c.entry_price - 1.0)
        asset_class = get_asset(c.asset).asset_class
        cost = 2.0 * rule.cost_bps(asset_class) / 1e4
        exit_utc = c.rows["close_utc"].iat[exit_row]
        open_until[c.asset] = (exit_utc, c.event_id)
        trades.append({
            "event_id": c.event_id, "asset": c.asset, "asset_class": asset_class, "direction": c.direction,
            "side": "long" if sign > 0 else "short", "sign": sign, "announced_utc": c.announced,
            "timing": c.timing, "entry": rule.entry, "entry_date": c.rows["date"].iat[c.entry_row],
            "entry_utc": c.entry_utc, "entry_price": c.entry_price, "exit_date": c.rows["date"].iat[exit_row],
            "exit_utc": exit_utc, "exit_price": exit_price, "exit_reason": reason,
            "sessions": exit_row - c.entry_row + (rule.entry == "next_open"), "weight": weight,
            "return_gross": gross, "cost": cost, "return_net": gross - cost, "pnl": weight * (gross - cost),
        })
        paths.append((c.rows, c.entry_row, exit_row))
    frame = pd.DataFrame(trades, columns=[c for c in TRADE_COLUMNS if c != "flags"])
    frame["flags"] = _roll_flags(frame, prices)
    daily = _daily_pnl(frame, paths, rule)
    frame["cum_pnl"] = frame["pnl"].cumsum()
    skipped_frame = pd.DataFrame(skipped, columns=["event_id", "asset", "reason"])
    return frame, daily, skipped_frame


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


def _daily_pnl(trades: pd.DataFrame, paths: list, rule: BacktestRule) -> pd.DataFrame:
    """Mark-to-market P&L per date (costs booked on entry and exit dates)."""
    pieces = []
    for t, (rows, i, j) in zip(trades.itertuples(index=False), paths):
        close = rows["close"].to_numpy()[i:j + 1]
        dates = rows["date"].iloc[i:j + 1].to_numpy()
        notional = t.weight * t.sign / t.entry_price
        move = np.diff(close, prepend=close[0]) * notional
        if rule.entry == "next_open":
            move[0] = (close[0] - t.entry_price) * notional
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
