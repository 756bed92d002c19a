"""Run a rule end to end and hold what came out."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import datasets
from ..events.catalog import Catalog, catalog_from_frame
from .engine import Simulation, asset_tables, run_rule
from .metrics import performance, trade_stats
from .placebo import percentile, placebo_distribution, side_map
from .rolls import benchmarks_needed, make_books
from .rules import LEARNED, BacktestRule
from .stats import deflated_sharpe

CSV_COLUMNS = ["event_id", "asset", "direction", "entry_date", "exit_date", "side", "weight", "entry_price",
               "exit_price", "exit_reason", "sessions", "timing", "flags", "return_gross", "cost", "return_net",
               "pnl", "cum_pnl", "return_gross_raw", "return_net_raw", "pnl_raw", "roll_gap", "roll_days",
               "roll_rule"]


def ordinal(value: float) -> str:
    """``22.1`` -> ``22nd``: a percentile in words."""
    n = int(round(value))
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass
class BacktestResult:
    """Trades (``trades``), daily marked-to-market P&L (``daily``), signals that
    were not traded with the reason (``skipped``), headline statistics
    (``metrics``), the placebo runs (``placebo``) and, for learned signs, the
    out-of-sample against in-sample comparison (``walk_forward``)."""

    rule: BacktestRule
    trades: pd.DataFrame
    daily: pd.DataFrame
    skipped: pd.DataFrame
    metrics: dict[str, float]
    placebo: pd.DataFrame = field(repr=False)
    notes: list[str] = field(default_factory=list)
    walk_forward: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def placebo_percentile(self) -> float:
        """Percentile of the real mean net return per trade among the placebo runs."""
        return self.metrics.get("placebo_percentile", float("nan"))

    def trade_table(self) -> pd.DataFrame:
        """The trade list with dates as YYYY-MM-DD (the CSV layout)."""
        table = self.trades[CSV_COLUMNS].copy()
        for col in ("entry_date", "exit_date"):
            table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m-%d")
        return table

    def by_period(self, freq: str = "Y") -> pd.DataFrame:
        """Trade statistics by period of entry (``Y`` years, ``Q`` quarters): how the rule
        fared through time, e.g. year by year for walk-forward signs."""
        if self.trades.empty:
            return pd.DataFrame(columns=["period", "n_trades", "hit_rate", "mean_return", "t_stat", "total_pnl"])
        periods = pd.to_datetime(self.trades["entry_date"]).dt.to_period(freq)
        rows = []
        for period, g in self.trades.groupby(periods, sort=True):
            s = trade_stats(g["return_net"].to_numpy())
            rows.append({"period": str(period), "n_trades": s["n_trades"], "hit_rate": s["hit_rate"],
                         "mean_return": s["mean_return"], "t_stat": s["t_stat"], "total_pnl": float(g["pnl"].sum())})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        m = self.metrics
        pct = lambda v: "n/a" if not np.isfinite(v) else f"{100 * v:+.2f}%"  # noqa: E731
        num = lambda v: "n/a" if not np.isfinite(v) else f"{v:.2f}"  # noqa: E731
        held = ", ".join(dict.fromkeys(self.trades["asset"])) if len(self.trades) else ""
        lines = [
            f"{self.rule.title}",
            f"trades: {m['n_trades']}   skipped signals: {len(self.skipped)}   entry: {self.rule.entry}   "
            f"holding: {self.rule.holding} sessions",
        ]
        if m["n_trades"]:
            lines += [
                f"hit rate: {m['hit_rate']:.1%}   mean net return/trade: {pct(m['mean_return'])} "
                f"(t = {m['t_stat']:.2f}, p = {m['p_value']:.3f}; 95% CI {pct(m['ci_low'])} to "
                f"{pct(m['ci_high'])},\n  bootstrap over {m['n_dates']} announcement dates)",
                f"total P&L: {pct(m['total_pnl'])}   Sharpe: {num(m['sharpe'])}   max drawdown: "
                f"{pct(-m['max_drawdown'])}   exposure: {m['exposure']:.1%}",
                f"PSR(SR>0): {num(m['psr'])}   DSR: {num(m['dsr'])} ({m['trials']} rule{'s' * (m['trials'] > 1)} "
                f"tried)   "
                f"turnover: {num(m['turnover'])}x/yr   P&L per year held: {pct(m['exposure_return'])}",
                f"long {held} over the same sessions: {pct(m['hold_mean_return'])}/trade, "
                f"total {pct(m['hold_total_pnl'])} (no costs)",
            ]
        else:
            lines.append("no trades")
        if m["n_trades"] and self.rule.roll_adjust == "splice" and m["n_rolled"]:
            lines.append(f"roll-adjusted futures: {m['n_rolled']} trade(s) crossed a roll (roll_days, roll_rule); "
                         f"raw total P&L {pct(m['total_pnl_raw'])},\n  mean {pct(m['mean_return_raw'])}/trade: "
                         f"the roll gaps made {pct(m['roll_pnl'])} of it")
        lines.append(
            f"placebo: {len(self.placebo)} runs of the rule on random dates (seed {self.rule.placebo_seed}), median "
            f"mean return {pct(float(self.placebo['mean_return'].median()))};\n  the real mean return sits at the "
            f"{ordinal(m['placebo_percentile'])} percentile of the placebo runs "
            f"(its total P&L at the {ordinal(m['placebo_percentile_pnl'])})"
            if len(self.placebo) else "placebo: not run")
        if len(self.walk_forward) > 1:
            ins = self.walk_forward.iloc[1]
            lines.append(f"in-sample signs (look-ahead) on the same announcements: {pct(ins['mean_return'])}/trade, "
                         f"total P&L {pct(ins['total_pnl'])}")
        if self.rule.sizing.method != "equal":
            lines.append(f"sizing: {self.rule.sizing.method} (P&L = weight x net return; the weight column)")
        notes = list(self.notes)
        rolled = int((self.trades["flags"].str.contains("roll:")).sum()) if len(self.trades) else 0
        if rolled and self.rule.roll_adjust == "none":
            notes.append(f"{rolled} trade(s) hold through a detected futures roll (flags column); "
                         "their P&L includes the contract switch (roll_adjust: none)")
        # within 100 columns, like every human table of the CLI
        lines += [textwrap.fill(f"note: {n}", width=100, subsequent_indent="  ") for n in notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        m = self.metrics
        return (f"BacktestResult({self.rule.name!r}, trades={m['n_trades']}, skipped={len(self.skipped)}, "
                f"mean_return={m['mean_return']:+.4f}, total_pnl={m['total_pnl']:+.4f}, placebo_runs={len(self.placebo)})")

    def _repr_html_(self) -> str:
        """Notebook card: the summary lines and the first trades (pandas escapes the cells)."""
        import html

        lines = "".join(f"<li>{html.escape(line)}</li>" for line in self.summary().splitlines()[1:])
        table = self.trade_table().head(20).to_html(index=False, float_format=lambda v: f"{v:.4f}")
        more = f"<p>{len(self.trades) - 20} more trades in <code>.trades</code></p>" if len(self.trades) > 20 else ""
        return f"<h4>{html.escape(self.rule.title)}</h4><ul>{lines}</ul>{table}{more}"


def run_backtest(rule: BacktestRule, prices: pd.DataFrame | None = None,
                 catalog: Catalog | pd.DataFrame | None = None) -> BacktestResult:
    """Backtest ``rule`` on ``prices`` (default: the bundled sample) and ``catalog``
    (default: the rule's catalog), with the placebo baseline."""
    if prices is None:
        prices = datasets.load_prices(rule.assets + benchmarks_needed(rule.assets))
    if catalog is None:
        catalog = rule.load_catalog(filtered=False)
    elif isinstance(catalog, pd.DataFrame):
        catalog = catalog_from_frame(catalog)
    tables = asset_tables(rule, prices)
    books, _gaps, roll_notes = make_books(rule, tables, prices)
    sim = run_rule(rule, prices, catalog, books)
    trades, daily, skipped = sim.trades, sim.daily, sim.skipped
    selected = (catalog.filter(**rule.events) if rule.events else catalog).events
    start = pd.Timestamp(selected["date"].min()) if len(selected) else None
    metrics = performance(trades, daily, start, seed=rule.placebo_seed)
    metrics["dsr"], metrics["sr0"], metrics["trials"] = metrics["psr"], 0.0, 1  # one rule: see deflate()
    placebo = placebo_distribution(rule, sim.signals, side_map(rule, sim.candidates, sim.fills), books, start)
    metrics["placebo_runs"] = len(placebo)
    metrics["placebo_percentile"] = percentile(metrics["mean_return"], placebo["mean_return"])
    metrics["placebo_percentile_pnl"] = percentile(metrics["total_pnl"], placebo["total_pnl"])
    notes = [f"{asset}: {len(t.attrs['untimed'])} price row(s) on dates that are not sessions of its calendar "
             f"ignored ({', '.join(t.attrs['untimed'][:5])}{', ...' if len(t.attrs['untimed']) > 5 else ''})"
             for asset, t in tables.items() if t.attrs.get("untimed")] + roll_notes
    walk = walk_forward(rule, prices, catalog, books, sim) if rule.signs == LEARNED else pd.DataFrame()
    return BacktestResult(rule, trades, daily, skipped, metrics, placebo, notes, walk)


def walk_forward(rule: BacktestRule, prices: pd.DataFrame, catalog: Catalog, books: dict, sim: Simulation
                 ) -> pd.DataFrame:
    """Learned signs out of sample (walk-forward, as traded) against in sample: the sign of
    the mean holding-period return of *all* announcements of the same direction on the
    asset, later ones included (look-ahead), on the same announcements and on all."""
    pool: dict[tuple[str, str], list[float]] = {}
    for c in sim.candidates:
        pool.setdefault((c.asset, c.direction), []).append(c.long_return)
    signs = {k: int(np.sign(np.mean(v))) for k, v in pool.items()}
    ins = run_rule(rule, prices, catalog, books,
                   lambda c: (signs[(c.asset, c.direction)], "in-sample mean exactly zero")).trades
    traded = set(zip(sim.trades["event_id"], sim.trades["asset"]))
    same = ins[[k in traded for k in zip(ins["event_id"], ins["asset"])]]
    rows = []
    for label, t in (("walk-forward signs (out of sample)", sim.trades),
                     ("in-sample signs, same announcements", same), ("in-sample signs, all announcements", ins)):
        st = trade_stats(t["return_net"].to_numpy())
        rows.append({"signs": label, "n_trades": st["n_trades"], "hit_rate": st["hit_rate"],
                     "mean_return": st["mean_return"], "t_stat": st["t_stat"], "total_pnl": float(t["pnl"].sum())})
    return pd.DataFrame(rows)


def deflate(results: list[BacktestResult], n_trials: int | None = None) -> None:
    """Deflated Sharpe ratios (:func:`impact.backtest.stats.deflated_sharpe`) of rules tried
    together: each result's ``dsr``, ``sr0`` and ``trials`` given every result's daily Sharpe
    ratio; ``n_trials`` (at least ``len(results)``) when more rules were tried than passed."""
    n = len(results) if n_trials is None else max(int(n_trials), len(results))
    srs = [r.metrics["sr_daily"] for r in results]
    for r in results:
        m = r.metrics
        m["dsr"], m["sr0"] = deflated_sharpe(m["sr_daily"], int(m["n_days"]), m["skew"], m["kurtosis"], srs, n)
        m["trials"] = n
