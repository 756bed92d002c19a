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
from matplotlib.figure import Figure

from ..study.plots import STYLE, direction_color, group_color


def price_figure(close: pd.Series, markers: pd.DataFrame, symbol: str, unit: str = "",
                 name: str | None = None) -> Figure:
    """Closing price of one asset over the study period with the events marked.

    ``markers`` has ``date`` (the asset's day 0) and ``direction``; each marker sits
    on that session's close and is coloured by the announcement's direction. Only
    events inside the plotted series are marked (and counted in the legend): a day 0
    after a series ends or before it starts has no price to sit on.
    """
    close = close.sort_index().dropna()
    if len(markers) and len(close):
        inside = pd.DatetimeIndex(markers["date"]).to_series().between(close.index[0], close.index[-1]).to_numpy()
        markers = markers[inside].reset_index(drop=True)
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
        who = f"{name} ({symbol})" if name and name != symbol else symbol
        ax.set_title(f"{who}: close with announcements (day 0) marked")
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
                           color=group_color(c, i), gid=f"{key}={c}")
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

