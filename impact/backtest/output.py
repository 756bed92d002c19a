"""The backtest page: an equity-curve figure, the statistics, the placebo baseline
and the trades table, written atomically (a temporary folder renamed into place)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from jinja2 import Environment, PackageLoader, select_autoescape  # noqa: E402

from ..atomic import atomic_folder  # noqa: E402
from ..csvsafe import to_csv  # noqa: E402
from ..study.plots import STYLE  # noqa: E402
from ..version import __version__  # noqa: E402
from .result import BacktestResult  # noqa: E402


def equity_figure(result: BacktestResult):
    """Cumulative P&L (marked to market daily) with drawdown shading and the placebo histogram."""
    with plt.rc_context(STYLE):
        fig, (ax, hx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2.4, 1]})
        daily = result.daily
        if len(daily):
            dates = pd.to_datetime(daily["date"])
            cum = 100 * daily["cum_pnl"].to_numpy(dtype=float)
            ax.step(dates, cum, where="post", color="tab:blue", lw=1.4, label="cumulative P&L")
            peak = np.maximum.accumulate(np.maximum(cum, 0.0))
            ax.fill_between(dates, cum, peak, step="post", color="tab:red", alpha=0.2, label="drawdown")
            ax.legend(frameon=False, fontsize=8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel("Cumulative P&L (% of one unit trade)")
        ax.set_title("Equity curve")
        placebo = 100 * result.placebo["mean_return"].to_numpy(dtype=float) if len(result.placebo) else []
        if len(placebo):
            hx.hist(placebo, bins=30, color="grey", alpha=0.7)
            hx.axvline(100 * result.metrics["mean_return"], color="tab:blue", lw=2,
                       label=f"real (pct {result.metrics['placebo_percentile']:.0f})")
            hx.legend(frameon=False, fontsize=8)
        hx.set_xlabel("Mean net return per trade (%)")
        hx.set_title(f"Placebo: {len(placebo)} runs of the rule")
        fig.tight_layout()
    return fig


def write_backtest_report(result: BacktestResult, out_root: str | Path = "out") -> Path:
    """Write ``<out_root>/<rule name>/index.html`` (+ figures/, trades.csv, spec.yaml) atomically;
    returns the path of ``index.html``."""
    name = result.rule.name
    with atomic_folder(out_root, name) as tmp:
        _render(result, tmp)
    return Path(out_root) / name / "index.html"


def _describe(value, unit: str = "") -> str:
    """A mapping as readable text: ``ZS_F: escalation short, de-escalation long; ...``."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            text = _describe(item, unit)
            parts.append(f"{key}: {text}" if isinstance(item, dict) else f"{key} {text}")
        return "; ".join(parts) if any(isinstance(v, dict) for v in value.values()) else ", ".join(parts)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{unit}"


def _render(result: BacktestResult, folder: Path) -> None:
    (folder / "figures").mkdir()
    fig = equity_figure(result)
    fig.savefig(folder / "figures" / "equity.png")
    plt.close(fig)
    table = result.trade_table()
    to_csv(table, folder / "trades.csv", index=False, float_format="%.10g")  # event ids/titles: escaped
    to_csv(result.daily, folder / "daily_pnl.csv", index=False, float_format="%.10g")
    to_csv(result.skipped, folder / "skipped.csv", index=False)
    to_csv(result.placebo, folder / "placebo.csv", index=False, float_format="%.10g")
    env = Environment(loader=PackageLoader("impact.backtest", "templates"),
                      autoescape=select_autoescape(default=True))
    env.filters["pct"] = lambda v, d=2: "" if v is None or not np.isfinite(v) else f"{100 * v:+.{d}f}%"
    env.filters["num"] = lambda v, d=2: "" if v is None or not np.isfinite(v) else f"{v:.{d}f}"
    env.filters["kv"] = _describe
    html = env.get_template("backtest.html.j2").render(
        rule=result.rule, m=result.metrics, trades=table.to_dict("records"),
        skipped=result.skipped.to_dict("records"), version=__version__,
        by_year=result.by_period("Y").to_dict("records"), notes=result.notes,
        walk=result.walk_forward.to_dict("records"),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        placebo_median=float(result.placebo["mean_return"].median()) if len(result.placebo) else float("nan"),
    )
    (folder / "index.html").write_text(html, encoding="utf-8")
    (folder / "spec.yaml").write_text(
        yaml.safe_dump(result.rule.to_dict() | {"impact_version": __version__}, sort_keys=False), encoding="utf-8")
