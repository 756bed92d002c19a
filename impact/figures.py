"""Report figures (matplotlib). Each function returns the Figure it drew."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

STYLE = {
    "font.size": 10, "axes.titlesize": 12, "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 150, "axes.grid": True,
    "grid.alpha": 0.3,
}


def caar_path_figure(path: pd.DataFrame, title: str = "Cumulative average abnormal return", level: float = 0.95):
    """CAAR over the event window with its confidence band (one line per group)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        groups = path.groupby("group") if "group" in path.columns else [("all pairs", path)]
        for label, g in groups:
            n = int(g["n"].iloc[0])
            ax.plot(g["rel_day"], 100 * g["caar"], marker="o", ms=3, label=f"{label} (n={n})")
            ax.fill_between(g["rel_day"], 100 * g["lower"], 100 * g["upper"], alpha=0.2)
        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("Trading days relative to the announcement (day 0)")
        ax.set_ylabel("CAAR (%)")
        ax.set_title(f"{title}\n(shaded: {level:.0%} confidence band)")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
    return fig


def heatmap_figure(matrix: pd.DataFrame, title: str = "Day-0 abnormal returns"):
    """Assets (rows) x events (columns) abnormal returns in percent, diverging colours centred at 0."""
    values = 100 * matrix.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    bound = float(np.nanpercentile(np.abs(finite), 98)) if finite.size else 1.0
    bound = bound or 1.0
    with plt.rc_context(STYLE | {"axes.grid": False}):
        width = min(max(6.0, 0.22 * matrix.shape[1] + 3), 24.0)
        fig, ax = plt.subplots(figsize=(width, max(3.0, 0.32 * matrix.shape[0] + 1.8)))
        image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="RdBu_r",
                          norm=TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound), interpolation="nearest")
        ax.set_yticks(range(matrix.shape[0]), matrix.index, fontsize=8)
        ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=90, fontsize=6)
        ax.set_xlabel("Event")
        ax.set_ylabel("Asset")
        ax.set_title(title)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label("Abnormal return (%)")
        fig.tight_layout()
    return fig
