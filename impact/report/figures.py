"""Report figures (matplotlib), one consistent style.

Every function takes tidy pandas/numpy inputs, draws on a new Figure and returns it,
so tests can inspect exactly what was plotted and notebooks can show or restyle it.
Returns are plotted in percent; time axes are labelled in trading days or dates.

Figures are built with :class:`matplotlib.figure.Figure` directly, not pyplot: no GUI
backend is touched, nothing accumulates in pyplot's global figure list during a long
report, and a notebook still shows a returned Figure inline.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

STYLE = {
    "font.size": 10, "axes.titlesize": 12, "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 120, "axes.grid": True,
    "grid.alpha": 0.3, "legend.frameon": False, "svg.fonttype": "none",
}

#: Event markers and groups share colours across figures.
DIRECTION_COLORS = {"escalation": "#b2182b", "de-escalation": "#2166ac", "neutral": "#636363"}
OTHER_COLOR = "#7f7f7f"


def direction_color(direction: str) -> str:
    return DIRECTION_COLORS.get(str(direction), OTHER_COLOR)


def _group_color(label, index: int) -> str:
    if str(label) in DIRECTION_COLORS:
        return DIRECTION_COLORS[str(label)]
    return matplotlib.colormaps["tab10"](index % 10)


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
            color = _group_color(label, i)
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


def price_figure(close: pd.Series, markers: pd.DataFrame, symbol: str, unit: str = "") -> Figure:
    """Closing price of one asset over the study period with the events marked.

    ``markers`` has ``date`` (the asset's day 0) and ``direction``; each marker sits
    on that session's close and is coloured by the announcement's direction.
    """
    close = close.sort_index()
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8, 3.2))
        ax = fig.subplots()
        ax.plot(close.index, close.to_numpy(dtype=float), color="#333333", lw=1.0, label=symbol)
        seen = []
        if len(markers):
            at = close.reindex(pd.DatetimeIndex(markers["date"]), method="ffill")
            for direction, idx in markers.groupby("direction", sort=False).groups.items():
                rows = markers.index.get_indexer(idx)
                ax.scatter(pd.DatetimeIndex(markers["date"]).take(rows), at.to_numpy()[rows], s=28, zorder=3,
                           color=direction_color(direction), edgecolor="white", linewidth=0.5,
                           label=f"{direction} ({len(rows)})", gid=f"events-{direction}")
                seen.append(direction)
        ax.set_xlabel("Date")
        ax.set_ylabel(f"Close ({unit})" if unit else "Close")
        ax.set_title(f"{symbol}: close with announcements (day 0) marked")
        if seen:
            ax.legend(fontsize=8, loc="best")
        fig.autofmt_xdate()
        fig.tight_layout()
    return fig


def ar_distribution_figure(frame: pd.DataFrame, value: str = "ar",
                           by: tuple[str, ...] = ("kind", "direction"),
                           title: str = "Event-day abnormal returns") -> Figure:
    """Distribution of abnormal returns (percent) by each key in ``by``: one panel per
    key, a box per category (median, quartiles) with every pair drawn as a dot."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(5 + 2.5 * len(by), 4.2))
        axes = fig.subplots(1, len(by), squeeze=False,
                            gridspec_kw={"width_ratios": [max(frame[k].nunique(), 1) for k in by]})
        rng = np.random.default_rng(0)  # jitter only; fixed so figures are reproducible
        for ax, key in zip(axes[0], by):
            cats = sorted(frame[key].dropna().astype(str).unique())
            data = [100 * frame.loc[frame[key].astype(str) == c, value].dropna().to_numpy(dtype=float) for c in cats]
            if cats:
                ax.boxplot(data, positions=range(len(cats)), widths=0.55, showfliers=False,
                           medianprops={"color": "black"})
            for i, (c, d) in enumerate(zip(cats, data)):
                ax.scatter(i + rng.uniform(-0.18, 0.18, len(d)), d, s=9, alpha=0.55,
                           color=_group_color(c, i), gid=f"{key}={c}")
            ax.set_xticks(range(len(cats)), [f"{c}\n(n={len(d)})" for c, d in zip(cats, data)],
                          rotation=30 if len(cats) > 3 else 0, fontsize=8, ha="right" if len(cats) > 3 else "center")
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xlabel(key.replace("_", " ").capitalize())
            ax.set_ylabel("Abnormal return on day 0 (%)")
        fig.suptitle(title)
        fig.tight_layout()
    return fig


def placebo_figure(draws: np.ndarray, observed: float, statistic: str = "CAAR",
                   title: str = "Observed statistic against its placebo distribution",
                   p_value: float | None = None) -> Figure:
    """Histogram of a statistic over placebo (pseudo-event) draws with the observed
    value marked (Brown & Warner 1980's simulation on non-event dates). ``p_value``
    is the placebo test's; without it the label shows the share of draws at least as
    extreme in absolute value as the observed one."""
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if p_value is None:
        p = float((np.abs(draws) >= abs(observed)).mean()) if draws.size else float("nan")
        p_label = "empirical p"
    else:
        p, p_label = float(p_value), "placebo p"
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7, 4))
        ax = fig.subplots()
        ax.hist(draws, bins=min(40, max(10, draws.size // 10)), color="#9ecae1", edgecolor="white",
                label=f"placebo draws (n={draws.size})")
        ax.axvline(observed, color="#b2182b", lw=2, label=f"observed = {observed:.4g} ({p_label} = {p:.3f})")
        ax.set_xlabel(statistic)
        ax.set_ylabel("Number of placebo draws")
        ax.set_title(title)
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig

