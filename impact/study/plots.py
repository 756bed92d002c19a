"""The fitted result's own figures: CAAR paths with confidence bands and the assets x
events heatmap (what ``result.plot_caar`` / ``result.plot_heatmap`` return), with the
shared style and colours the report's figures use too. Figures are matplotlib
``Figure`` objects built without pyplot, so nothing is shown or kept globally.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

if TYPE_CHECKING:  # the Literal of rc keys (matplotlib >= 3.10); annotations only
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "font.size": 10, "axes.titlesize": 12, "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 120, "axes.grid": True,
    "grid.alpha": 0.3, "legend.frameon": False, "svg.fonttype": "none",
}

#: Event markers and groups share colours across figures.
DIRECTION_COLORS = {"escalation": "#b2182b", "de-escalation": "#2166ac", "neutral": "#636363"}
OTHER_COLOR = "#7f7f7f"


def direction_color(direction: str) -> str:
    return DIRECTION_COLORS.get(str(direction), OTHER_COLOR)


def group_color(label, index: int) -> str:
    if str(label) in DIRECTION_COLORS:
        return DIRECTION_COLORS[str(label)]
    return matplotlib.colors.to_hex(matplotlib.colormaps["tab10"](index % 10))


def caar_path_figure(path: pd.DataFrame, title: str = "Cumulative average abnormal return",
                     level: float = 0.95) -> Figure:
    """CAAR over the event window with its confidence band, one line per group.

    ``path`` is :meth:`EventStudyResult.caar_path` (``[group,] rel_day, caar, lower,
    upper, n``); the band is the cross-sectional t interval (Brown & Warner 1985).
    """
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8, 4.5))
        ax = fig.subplots()
        groups = list(path.groupby("group", sort=False)) if "group" in path.columns else [("all pairs", path)]
        for i, (label, g) in enumerate(groups):
            n = int(g["n"].iloc[0])
            color = group_color(label, i)
            ax.plot(g["rel_day"], 100 * g["caar"], marker="o", ms=3, color=color, label=f"{label} (n={n})")
            ax.fill_between(g["rel_day"], 100 * g["lower"], 100 * g["upper"], color=color, alpha=0.15)
        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("Trading days relative to the announcement (day 0)")
        ax.set_ylabel("CAAR (%)")
        ax.set_title(f"{title}\n(shaded: {level:.0%} confidence band)")
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def heatmap_figure(matrix: pd.DataFrame, title: str = "Day-0 abnormal returns",
                   column_labels: list[str] | None = None) -> Figure:
    """Assets (rows) x events (columns) abnormal returns in percent.

    Diverging colour map (red negative, blue positive, as in the HTML tables)
    centred at zero (``TwoSlopeNorm``), symmetric limits at the 98th percentile
    of |AR| so one outlier does not wash out the rest; missing pairs are blank.
    """
    values = 100 * matrix.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    bound = float(np.nanpercentile(np.abs(finite), 98)) if finite.size else 1.0
    bound = bound or 1.0
    with matplotlib.rc_context(STYLE | {"axes.grid": False}):
        width = min(max(6.0, 0.22 * matrix.shape[1] + 3), 24.0)
        fig = Figure(figsize=(width, max(3.0, 0.32 * matrix.shape[0] + 1.8)))
        ax = fig.subplots()
        image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="RdBu",
                          norm=TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound), interpolation="nearest")
        ax.set_yticks(range(matrix.shape[0]), [str(v) for v in matrix.index], fontsize=8)
        labels = column_labels if column_labels is not None else [str(v) for v in matrix.columns]
        ax.set_xticks(range(matrix.shape[1]), labels, rotation=90, fontsize=6)
        ax.set_xlabel("Event")
        ax.set_ylabel("Asset")
        ax.set_title(title)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label("Abnormal return (%)")
        fig.tight_layout()
    return fig


def heatmap_matrix(result, window: tuple[int, int] = (0, 0)) -> pd.DataFrame:
    """Assets x events matrix of CARs over ``window`` (day-0 ARs for ``(0, 0)``)."""
    cars = result.car(window)
    matrix = cars.pivot(index="asset", columns="event_id", values="car")
    order = [a for a in (result.study.assets or []) if a in matrix.index] or list(matrix.index)
    events = [e for e in result.events_frame["event_id"] if e in matrix.columns]
    return matrix.reindex(index=order, columns=events)


def event_labels(result, event_ids) -> list[str]:
    """``id (YYYY-MM-DD)`` axis labels for events (the announcement date)."""
    dates = result.events_frame.drop_duplicates("event_id").set_index("event_id")["date"]
    return [f"{e} ({pd.Timestamp(dates[e]):%Y-%m-%d})" if e in dates.index and pd.notna(dates[e]) else str(e)
            for e in event_ids]

