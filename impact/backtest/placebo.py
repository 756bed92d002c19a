"""Placebo baseline: the same rule on random dates.

Each run moves every announcement that gave the rule a tradable signal by a whole
number of weeks, one draw per announcement shared by all the rule's assets (an
announcement traded on several assets stays one pseudo-announcement). The move keeps
the weekday and the local wall-clock time in the announcement's own time zone, so the
entry rule (the first price struck after the instant) is replayed as it is; the next
announcement of the opposite direction (``opposite_event`` exits) moves with it. The
rule then runs exactly as on the real dates, through the engine's own code
(:func:`impact.backtest.engine.trade`): entry, holding period, stop-loss and
take-profit on the (roll-adjusted) path, opposite-event exits, overlap skips, sizing
(volatility known at the pseudo entry) and costs. The side of each (announcement,
asset) is the rule's fixed sign; with learned signs, the side the real run traded
(the placebo does not relearn).

Draws: ``numpy.random.default_rng(seed)``; ``rng.integers(lo, hi + 1, size=(runs,
n))`` weeks for the ``n`` announcements in catalog order, ``lo``/``hi`` keeping the
pseudo date between the first selected announcement and the last date that leaves each
of the announcement's assets room for the holding period plus one session.

The statistics per run are the mean net return per trade, the total P&L and the number
of trades; the real strategy's percentile is the share of runs at or below it (a
randomization test in the spirit of Brock, Lakonishok & LeBaron 1992).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import NO_EVENT, Candidate, Fill, candidates, trade
from .rolls import Book
from .rules import BacktestRule

PLACEBO_COLUMNS = ["run", "mean_return", "total_pnl", "n_trades"]
WEEK_NS = 7 * 86_400 * 10**9


def side_map(rule: BacktestRule, cands: list[Candidate], fills: list[Fill]) -> dict[tuple[str, str], int]:
    """(event, asset) -> side the placebo trades: the rule's fixed signs on every signal
    that had prices, or the learned sides the real run traded."""
    if rule.signs == "learned":
        return {(f.c.event_id, f.c.asset): f.sign for f in fills}
    out = {}
    for c in cands:
        side = rule.side(c.asset, c.direction)
        if side:
            out[(c.event_id, c.asset)] = side
    return out


def _local_days(instants: np.ndarray, zone: str) -> np.ndarray:
    return pd.DatetimeIndex(instants, tz="UTC").tz_convert(zone).tz_localize(None).normalize().to_numpy()


def shift_weeks(instants: np.ndarray, zones: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """UTC ns instants moved by ``weeks`` (same shape) at the same wall-clock time in each zone."""
    out = np.empty(weeks.shape, dtype=np.int64)
    for zone in dict.fromkeys(zones):
        cols = np.flatnonzero(zones == zone)
        base = np.broadcast_to(instants[cols], weeks[:, cols].shape).ravel()
        local = pd.DatetimeIndex(base, tz="UTC").tz_convert(zone).tz_localize(None)
        moved = local + pd.to_timedelta(weeks[:, cols].ravel() * 7, unit="D")
        back = moved.tz_localize(zone, ambiguous=np.ones(len(moved), dtype=bool), nonexistent="shift_forward")
        out[:, cols] = back.tz_convert("UTC").as_unit("ns").asi8.reshape(len(weeks), len(cols))
    return out


def week_bounds(rule: BacktestRule, sig: pd.DataFrame, sides: dict[tuple[str, str], int],
                books: dict[str, Book], start: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Per signal, the smallest and largest week shift keeping its pseudo date in range."""
    offset = rule.holding if rule.entry == "close" else rule.holding - 1
    last_ok = {a: b.dates[max(len(b) - offset - 2, 0)] for a, b in books.items()}
    lo, hi = np.zeros(len(sig), dtype=np.int64), np.zeros(len(sig), dtype=np.int64)
    for k, ev in enumerate(sig.itertuples(index=False)):
        day = _local_days(np.array([ev.announced]), ev.timezone)[0]
        end = min(last_ok[a] for (e, a) in sides if e == ev.event_id)
        lo[k] = -((day - np.datetime64(start, "ns")) // np.timedelta64(7, "D"))  # ceil
        hi[k] = (end - day) // np.timedelta64(7, "D")
    return lo, hi


def placebo_distribution(rule: BacktestRule, sig: pd.DataFrame, sides: dict[tuple[str, str], int],
                         books: dict[str, Book], start: pd.Timestamp | None) -> pd.DataFrame:
    """One row per run: ``run, mean_return, total_pnl, n_trades`` (see the module docstring).

    ``sig``: the real signals (:func:`impact.backtest.engine.signals`); ``sides``:
    :func:`side_map`; ``books``: the assets' price rows (:func:`impact.backtest.rolls.make_books`).
    """
    runs = rule.placebo_runs
    traded = {e for (e, _a) in sides}
    sig = sig[sig["event_id"].isin(traded)].reset_index(drop=True)
    if runs == 0 or sig.empty or start is None:
        return pd.DataFrame(columns=PLACEBO_COLUMNS)
    lo, hi = week_bounds(rule, sig, sides, books, start)
    keep = lo <= hi  # an announcement that cannot be placed anywhere is left out
    sig, lo, hi = sig[keep].reset_index(drop=True), lo[keep], hi[keep]
    rng = np.random.default_rng(rule.placebo_seed)
    weeks = rng.integers(lo, hi + 1, size=(runs, len(sig)))
    zones = sig["timezone"].to_numpy(dtype=object)
    announced = shift_weeks(sig["announced"].to_numpy(dtype=np.int64), zones, weeks)
    opposite = sig["opposite"].to_numpy(dtype=np.int64)
    has_opposite = opposite != NO_EVENT
    moved_opposite = np.where(has_opposite, shift_weeks(np.where(has_opposite, opposite, 0), zones, weeks), NO_EVENT)
    rows = []
    for run in range(runs):
        pseudo = sig.assign(announced=announced[run], opposite=moved_opposite[run])
        cands = [c for c in candidates(rule, pseudo, books, []) if (c.event_id, c.asset) in sides]
        fills = trade(rule, cands, lambda c: (sides[(c.event_id, c.asset)], ""), [])
        net = np.array([f.gross - f.cost for f in fills])
        weight = np.array([f.weight for f in fills])
        rows.append((run, float(net.mean()) if len(net) else np.nan, float((net * weight).sum()), len(net)))
    return pd.DataFrame(rows, columns=PLACEBO_COLUMNS)


def percentile(real: float, placebo: pd.Series) -> float:
    """Percent of placebo runs at or below the real statistic (NaN without runs)."""
    values = placebo.dropna().to_numpy(dtype=float)
    if not len(values) or not np.isfinite(real):
        return float("nan")
    return float(100.0 * (values <= real).mean())
