"""The fitted result's own figures: CAAR paths with confidence bands and the assets x
events heatmap (what ``result.plot_caar`` / ``result.plot_heatmap`` return), with the
shared style and colours the report's figures use too. Figures are matplotlib
``Figure`` objects built without pyplot, so nothing is shown or kept globally.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.patches
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from ..events.assets import asset_label, asset_title

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


#: Groups with fewer pairs than this are left out of CAAR figures (their bands are noise).
MIN_GROUP_PAIRS = 5


def caar_path_figure(path: pd.DataFrame, title: str = "Cumulative average abnormal return",
                     level: float = 0.95, min_pairs: int = MIN_GROUP_PAIRS, ylabel: str = "CAAR (%)",
                     scale: float = 100.0) -> Figure:
    """CAAR over the event window with its confidence band, one line per group.

    ``path`` is :meth:`EventStudyResult.caar_path` (``[group,] rel_day, caar, lower,
    upper, n``); the band is the cross-sectional t interval (Brown & Warner 1985).
    Up to three groups share one panel; more are drawn as small multiples (one panel
    per group, shared axes, n in each title) so bands do not pile up. Groups with fewer
    than ``min_pairs`` pairs are left out, and the figure says which.
    """
    groups = list(path.groupby("group", sort=False)) if "group" in path.columns else [("all pairs", path)]
    small = [(label, int(g["n"].iloc[0])) for label, g in groups if int(g["n"].iloc[0]) < min_pairs]
    if len(small) < len(groups):
        groups = [(label, g) for label, g in groups if int(g["n"].iloc[0]) >= min_pairs]
    else:
        small = []  # nothing would be left: draw them all
    with matplotlib.rc_context(STYLE):
        if len(groups) <= 3:
            fig = Figure(figsize=(8, 4.5))
            axes = [fig.subplots()] * len(groups) or [fig.subplots()]
        else:
            cols = 3
            rows = -(-len(groups) // cols)
            fig = Figure(figsize=(10, 2.6 * rows + 1.2))
            grid = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
            axes = list(grid.flat)
            for ax in axes[len(groups):]:
                ax.set_visible(False)
        for i, (label, g) in enumerate(groups):
            ax = axes[i]
            n = int(g["n"].iloc[0])
            color = group_color(label, i)
            ax.plot(g["rel_day"], scale * g["caar"], marker="o", ms=3, color=color, label=f"{label} (n={n})")
            ax.fill_between(g["rel_day"], scale * g["lower"], scale * g["upper"], color=color, alpha=0.15)
            ax.axhline(0, color="black", lw=0.8)
            ax.axvline(0, color="grey", lw=0.8, ls="--")
            if len(groups) > 3:
                ax.set_title(f"{label} (n={n})", fontsize=9)
        if len(groups) <= 3:
            ax = axes[0]
            ax.set_xlabel("Trading days relative to the announcement (day 0)")
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
            fig.suptitle(f"{title}\n(shaded: {level:.0%} confidence band)")
        else:
            fig.supxlabel("Trading days relative to the announcement (day 0)")
            fig.supylabel(ylabel)
            fig.suptitle(f"{title} (shaded: {level:.0%} confidence band)")
        if small:
            fig.text(0.01, 0.005, f"Left out (fewer than {min_pairs} pairs): "
                     + ", ".join(f"{label} (n={n})" for label, n in small), fontsize=7, color="#555555")
        fig.tight_layout(rect=(0, 0.03 if small else 0, 1, 1))
    return fig


def heatmap_figure(matrix: pd.DataFrame, title: str = "Day-0 abnormal returns",
                   column_labels: list[str] | None = None, row_labels: list[str] | None = None,
                   column_groups: list[str] | None = None) -> Figure:
    """Assets (rows) x events (columns) abnormal returns in percent.

    Diverging colour map (red negative, blue positive, as in the HTML tables)
    centred at zero (``TwoSlopeNorm``) with symmetric limits clipped at the 98th
    percentile of |AR| (stated on the colour bar) so one outlier such as the VIX does
    not wash out the rest; missing pairs (no data) are grey and hatched, never drawn
    as a zero. ``column_groups`` (e.g. each event's year, in column order) separates
    the groups with a line and names each above its columns.
    """
    values = 100 * matrix.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    bound = float(np.nanpercentile(np.abs(finite), 98)) if finite.size else 1.0
    bound = bound or 1.0
    labels = column_labels if column_labels is not None else [str(v) for v in matrix.columns]
    rows = row_labels if row_labels is not None else [str(v) for v in matrix.index]
    with matplotlib.rc_context(STYLE | {"axes.grid": False, "hatch.color": "#b0b0b0"}):
        width = min(max(6.0, 0.2 * matrix.shape[1] + 4), 26.0)
        fig = Figure(figsize=(width, max(3.0, 0.32 * matrix.shape[0] + 2.4)), layout="constrained")
        ax = fig.subplots()
        ax.set_facecolor("#eeeeee")
        ax.add_patch(matplotlib.patches.Rectangle((-0.5, -0.5), matrix.shape[1], matrix.shape[0], hatch="///",
                                                  fill=False, lw=0, zorder=0))
        image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="RdBu", interpolation="nearest",
                          norm=TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound), zorder=1)
        ax.set_yticks(range(matrix.shape[0]), rows, fontsize=8)
        ax.set_xticks(range(matrix.shape[1]), labels, rotation=90, fontsize=6 if matrix.shape[1] > 30 else 7)
        if column_groups is not None and len(set(column_groups)) > 1:
            starts = [i for i, g in enumerate(column_groups) if i == 0 or g != column_groups[i - 1]]
            for k, start in enumerate(starts):
                stop = starts[k + 1] if k + 1 < len(starts) else len(column_groups)
                if start:
                    ax.axvline(start - 0.5, color="black", lw=1.2)
                ax.text((start + stop - 1) / 2, -0.7, column_groups[start], ha="center", va="bottom", fontsize=8,
                        clip_on=False)
        ax.set_xlabel("Event")
        ax.set_ylabel("Asset")
        ax.set_title(title, pad=16 if column_groups is not None else 6)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label(f"Abnormal return (%); colours clipped at \u00b1{bound:.1f}%\ngrey hatched: no data")
    return fig


def heatmap_matrix(result, window: tuple[int, int] = (0, 0)) -> pd.DataFrame:
    """Assets x events matrix of CARs over ``window`` (day-0 ARs for ``(0, 0)``)."""
    cars = result.car(window)
    matrix = cars.pivot(index="asset", columns="event_id", values="car")
    order = [a for a in (result.study.assets or []) if a in matrix.index] or list(matrix.index)
    frame = result.events_frame.drop_duplicates("event_id")
    frame = frame.assign(_day=pd.to_datetime(frame["date"], errors="coerce")).sort_values("_day", kind="stable")
    events = [e for e in frame["event_id"] if e in matrix.columns]  # in time order, bundles among them
    return matrix.reindex(index=order, columns=events)


def event_labels(result, event_ids) -> list[str]:
    """``id (YYYY-MM-DD)`` axis labels for events (the announcement date)."""
    dates = result.events_frame.drop_duplicates("event_id").set_index("event_id")["date"]
    return [f"{e} ({pd.Timestamp(dates[e]):%Y-%m-%d})" if e in dates.index and pd.notna(dates[e]) else str(e)
            for e in event_ids]


def event_years(result, event_ids) -> list[str]:
    """Each event's announcement year (the heatmap's panels when there are many events)."""
    dates = result.events_frame.drop_duplicates("event_id").set_index("event_id")["date"]
    return [f"{pd.Timestamp(dates[e]):%Y}" if e in dates.index and pd.notna(dates[e]) else "" for e in event_ids]


def result_heatmap(result, matrix: pd.DataFrame, title: str) -> Figure:
    """:func:`heatmap_figure` of a result's matrix with reader's labels: asset names on
    the rows, ``id (date)`` on the columns, one panel per year when events are many."""
    return heatmap_figure(matrix, title, event_labels(result, matrix.columns),
                          [f"{asset_label(a)} ({a})" if asset_label(a) != a else a for a in matrix.index],
                          event_years(result, matrix.columns))


def intraday_figure(paths: dict[str, pd.DataFrame], what: str = "car", title: str = "",
                    window: tuple[int, int] | None = None, clocks: dict[str, str] | None = None,
                    shut: dict[str, list[tuple[float, float]]] | None = None) -> Figure:
    """The minute path around one announcement, one panel per asset (shared x axis in
    minutes from the instant, marked at 0). ``paths``: asset -> ``minutes, ret, car``
    (:meth:`IntradayResult.path`); ``what`` picks the cumulative return or abnormal return;
    ``clocks``: asset -> the instant on its own clock (panel title); ``shut``: asset ->
    the minutes of the window the market was shut (a clipped window), shaded grey."""
    label = {"car": "Cumulative abnormal return (%)", "ret": "Cumulative return (%)"}[what]
    with matplotlib.rc_context(STYLE):
        n = max(len(paths), 1)
        cols = min(n, 3)
        rows = -(-n // cols)
        fig = Figure(figsize=(4.2 * cols, 2.8 * rows + 0.9))
        axes = list(fig.subplots(rows, cols, sharex=True, squeeze=False).flat)
        for ax in axes[len(paths):]:
            ax.set_visible(False)
        for ax, (asset, path) in zip(axes, paths.items()):
            values = 100 * path[what]
            final = values.iloc[-1]
            color = DIRECTION_COLORS["escalation"] if final < 0 else DIRECTION_COLORS["de-escalation"]
            ax.step(path["minutes"], values, where="post", color=color, lw=1.3)
            ax.axvline(0, color="black", lw=1, ls="--")
            ax.axhline(0, color="black", lw=0.6)
            for lo, hi in (shut or {}).get(asset, []):
                ax.axvspan(lo, hi, color="#bbbbbb", alpha=0.35, lw=0)
            clock = (clocks or {}).get(asset)
            ax.set_title(f"{asset_title(asset)}{', ' + clock if clock else ''}: {final:+.2f}%", fontsize=9)
            if window is not None:
                ax.set_xlim(window[0], window[1])
        fig.supxlabel("Minutes from the announcement (dashed line; grey: market shut)")
        fig.supylabel(label)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig


def coefficient_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Coefficients with their confidence intervals (``term, coef, ci_low, ci_high``), in
    percentage points of CAR; the intercept drawn like the rest, zero marked."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7, 0.45 * len(table) + 1.6))
        ax = fig.subplots()
        y = np.arange(len(table))[::-1]
        ax.errorbar(100 * table["coef"], y, xerr=[100 * (table["coef"] - table["ci_low"]),
                                                  100 * (table["ci_high"] - table["coef"])],
                    fmt="o", color="#333333", ecolor="#777777", capsize=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [str(t) for t in table["term"]], fontsize=8)
        ax.set_xlabel("Coefficient (percentage points of CAR), 95% interval")
        if title:
            ax.set_title(title, fontsize=10)
        fig.tight_layout()
    return fig
