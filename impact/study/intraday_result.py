"""The fitted intraday study: one row per (event, asset) window, the exclusions with their
reasons, the minute paths behind the figure, and the tests across events (which the
inference stage offers through :func:`impact.study.result.extend`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..events.assets import get_asset
from ..events.calendars import asset_zone
from .extensions import extension as _extension
from .plots import intraday_figure

if TYPE_CHECKING:
    from .intraday import IntradayStudy, Points

_MINUTE = 60_000_000_000


@dataclass
class IntradayResult:
    """``windows``: per pair ``pre`` (window start -> instant), ``post`` (instant -> end),
    ``ret``, ``expected``, ``ar``, ``se``, ``t``, ``p_value``, the normal-return fit
    (``alpha``, ``beta``, ``sigma``, ``n_est``), the window actually used
    (``window_start``/``window_end``, ``crosses_session``) and the flags ``halt``, ``limit``.
    ``excluded``: ``event_id, asset, reason``."""

    windows: pd.DataFrame
    excluded: pd.DataFrame
    study: IntradayStudy
    points: dict[str, Points]
    bench: Points | None = None

    def __repr__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        s = self.study
        lines = [f"Intraday event study: {self.windows['event_id'].nunique()} events x {len(s.assets or [])} assets, "
                 f"window ({s.window[0]:+d}, {s.window[1]:+d}) min, model {s.model}"
                 f"{' vs ' + s.benchmark if s.benchmark else ''}, hours {s.hours}, {s.minutes}-minute bars",
                 f"{len(self.windows)} windows, {len(self.excluded)} excluded"]
        for row in self.windows.itertuples():
            local = row.instant.tz_convert(asset_zone(get_asset(row.asset)))
            flags = ", ".join(f for f, on in (("clipped at the session", row.crosses_session), ("halt", row.halt),
                                               ("limit", row.limit)) if on)
            lines.append(f"  {row.event_id:<14} {row.asset:<8} {local:%Y-%m-%d %H:%M %Z}  pre {row.pre:+.2%}  "
                         f"post {row.post:+.2%}  AR {row.ar:+.2%}  t {row.t:+.2f}{'  [' + flags + ']' if flags else ''}")
        if len(self.excluded):
            reasons = self.excluded.groupby("reason").size().sort_values(ascending=False)
            lines.append("excluded: " + "; ".join(f"{n} x {r}" for r, n in reasons.items()))
        return "\n".join(lines)

    def path(self, event_id: str, asset: str) -> pd.DataFrame:
        """The window's minute path: ``minutes`` from the instant, cumulative return and
        cumulative abnormal return from the window's start."""
        row = self.windows[(self.windows["event_id"] == event_id) & (self.windows["asset"] == asset)]
        if row.empty:
            raise KeyError(f"no window for {event_id} x {asset} (see result.excluded)")
        row = row.iloc[0]
        pts = self.points[asset]
        tau = row["instant"].value
        lo = int(np.searchsorted(pts.time, row["window_start"].value, side="left"))
        hi = int(np.searchsorted(pts.time, row["window_end"].value, side="right"))
        idx = np.arange(lo, hi)
        step = np.r_[0.0, np.diff(pts.logp[idx])] * pts.steps[idx]
        step[0] = 0.0
        expected = np.where(pts.steps[idx], row["alpha"], 0.0)
        expected[0] = 0.0
        if self.study.model == "benchmark" and self.bench is not None:
            kx = np.searchsorted(self.bench.time, pts.time[idx], side="right") - 1
            x = np.r_[0.0, np.diff(self.bench.logp[np.maximum(kx, 0)])] * pts.steps[idx]
            x[0] = 0.0
            expected = expected + row["beta"] * x
        elif self.study.model == "raw":
            expected = np.zeros(len(idx))
        return pd.DataFrame({"minutes": (pts.time[idx] - tau) / _MINUTE, "ret": np.cumsum(step),
                             "car": np.cumsum(step - expected)})

    def plot(self, event_id: str | None = None, what: str = "car") -> Figure:
        """The intraday path around one announcement (default: the first), one panel per
        asset: the instant at minute 0 on each asset's clock, the part of the window when
        the market was shut (a clipped window) shaded."""
        event_id = event_id or str(self.windows["event_id"].iloc[0])
        rows = self.windows[self.windows["event_id"] == event_id]
        if rows.empty:
            raise KeyError(f"no windows for {event_id} (see result.excluded)")
        paths, clocks, shut = {}, {}, {}
        a, b = self.study.window
        for r in rows.itertuples():
            paths[r.asset] = self.path(event_id, r.asset)
            clocks[r.asset] = f"{r.instant.tz_convert(asset_zone(get_asset(r.asset))):%H:%M %Z}"
            start = (r.window_start - r.instant) / pd.Timedelta(minutes=1)
            end = (r.window_end - r.instant) / pd.Timedelta(minutes=1)
            shut[r.asset] = [(a, start)] * (start > a) + [(end, b)] * (end < b)
        instant = rows["instant"].iloc[0]
        return intraday_figure(paths, what=what, title=f"{event_id} at {instant:%Y-%m-%d %H:%M} UTC",
                               window=self.study.window, clocks=clocks, shut=shut)

    def tests(self, **kwargs: Any) -> pd.DataFrame:
        """Tests across events per asset and pooled, with the time-of-day-matched placebo
        (:func:`impact.inference.intraday.intraday_tests`)."""
        return _extension("intraday_tests")(self, **kwargs)
