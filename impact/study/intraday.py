"""Intraday event windows: returns in minutes around each announcement's exact instant.

Conventions (docs/methods.md "Intraday windows"):

* A bar stamped ``t`` covers ``[t, t + interval)``, cut short by the next bar's start or
  the session's close (Yahoo's hourly 15:30 bar ends at 16:00); its close is the price
  at that end, and the session's first bar's *open* is the price at the session's start.
  ``P(x)`` is the last such price at or before instant ``x``: the bar that contains
  the announcement counts as after it.
* Sessions: ``hours="regular"`` keeps the bars inside the asset's registry hours (NYSE
  09:30-16:00 ET; a CBOT grain's Globex evening open to its settlement) and drops pre-
  and post-market bars; ``hours="all"`` keeps every bar and starts a new session after a
  break of ``session_break`` minutes or more (yfinance's 04:00-20:00 ET extended
  session, the futures' daily maintenance hour).
* A window ``(a, b)`` in clock minutes runs from ``P(instant + a)`` to ``P(instant + b)``.
  When it reaches past the session (news at 15:30 ET with ``b = 120``) it is clipped to
  the session's first and last price (``across_close="clip"``, the default, flagged
  ``crosses_session``), runs on into the next session with the overnight gap in it
  (``"continue"``), or the pair is excluded (``"exclude"``). News while the market is
  shut (under the chosen hours) is excluded with the reason: its reaction is in the
  daily ``session_part="overnight"`` study.
* Normal return, fitted on the intra-session bar returns of the estimation window
  ``(ea, eb)`` minutes (default the week before the window): ``"drift"`` (the pre-event
  mean bar return), ``"benchmark"`` (OLS on the benchmark's bar returns on the same
  clock, the intraday market model) or ``"raw"`` (zero). The abnormal return's variance
  includes the estimation error of the fitted mean or line (Campbell, Lo & MacKinlay
  1997, ch. 4, eq. 4.4.9 with bars for days).
* Flags: ``halt`` when a hole of ``halt_minutes`` or more without bars lies inside the
  window (a trading halt or no trades); ``limit`` when the price touches a known daily
  limit (``limits={"600519.SS": 0.10}``, a fraction of the previous session's close).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.bars import BAR_COLUMNS, interval_minutes, validate_bars
from ..errors import ImpactError
from ..events.assets import by_asset, get_asset
from ..events.calendars import trading_hours
from ..events.catalog import Catalog, instants_from_frame
from .intraday_result import IntradayResult
from .statistics import t_pvalue

MODELS = ("drift", "benchmark", "raw")
HOURS = ("regular", "all")
ACROSS_CLOSE = ("clip", "continue", "exclude")
_MINUTE = 60_000_000_000  # ns


@dataclass(frozen=True)
class Points:
    """One asset's price points on its own clock: ``time`` (UTC ns), log price, session."""

    time: np.ndarray
    logp: np.ndarray
    session: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        """True where the return into point j stays within one session."""
        return np.r_[False, self.session[1:] == self.session[:-1]]


def session_points(bars: pd.DataFrame, symbol: str, minutes: int, hours: str = "regular",
                   session_break: float = 60.0) -> Points:
    """The price points of one symbol's bars (see the module's conventions)."""
    t = bars["time"].dt.as_unit("ns").array.asi8
    step = minutes * _MINUTE
    if hours == "regular":
        table = trading_hours(get_asset(symbol)).dropna()
        opens, closes = table["open_utc"].dt.as_unit("ns").array.asi8, table["close_utc"].dt.as_unit("ns").array.asi8
        s = np.searchsorted(opens, t, side="right") - 1
        keep = (s >= 0) & (t < closes[np.maximum(s, 0)])
        sid = s[keep]
        shut = closes[sid]
    else:
        keep = np.ones(len(t), dtype=bool)
        new = np.r_[True, t[1:] - (t[:-1] + step) >= session_break * _MINUTE]
        sid = np.cumsum(new) - 1
        shut = np.full(len(t), np.iinfo(np.int64).max)
    t = t[keep]
    # a bar ends one interval later, or earlier when the next bar starts sooner or the session shuts
    # (Yahoo's hourly bars: 09:00-09:30, then 09:30, 10:30 .. 15:30-16:00)
    ends = np.minimum(np.minimum(t + step, np.r_[t[1:], np.iinfo(np.int64).max]), shut)
    close = np.log(bars["close"].to_numpy(dtype=float)[keep])
    opened = np.log(bars["open"].to_numpy(dtype=float)[keep])
    first = np.r_[True, sid[1:] != sid[:-1]] & np.isfinite(opened)
    times = np.r_[ends, t[first]]
    logp = np.r_[close, opened[first]]
    sess = np.r_[sid, sid[first]]
    order = np.lexsort((times, sess))
    return Points(times[order], logp[order], sess[order])


def as_of(points: Points, x: np.ndarray) -> np.ndarray:
    """Index of the last point at or before each instant (-1 before the first)."""
    return np.searchsorted(points.time, x, side="right") - 1


def _cum(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.cumsum(np.where(mask, values, 0.0))


def window_stats(points: Points, instants: np.ndarray, window: tuple[int, int], estimation: tuple[int, int],
                 model: str = "drift", bench: Points | None = None, across_close: str = "clip",
                 min_bars: int = 30) -> dict[str, np.ndarray]:
    """Vectorised window returns and abnormal returns at ``instants`` (UTC ns).

    Every statistic comes from cumulative sums over the points, so the cost is one
    binary search per instant and bound whatever the window's length. ``reason`` is ""
    for a usable pair, else why it is excluded.
    """
    n = len(points.time)
    L, S = points.logp, points.session
    valid = points.steps
    r = np.r_[0.0, np.diff(L)]
    N, C1, C2 = np.cumsum(valid), _cum(r, valid), _cum(r * r, valid)
    tau = np.asarray(instants, dtype=np.int64)
    k0 = as_of(points, tau)
    ka = as_of(points, tau + window[0] * _MINUTE)
    kb = as_of(points, tau + window[1] * _MINUTE)
    kea = as_of(points, tau + estimation[0] * _MINUTE)
    keb = as_of(points, tau + estimation[1] * _MINUTE)
    safe0 = np.clip(k0, 0, max(n - 2, 0))
    open_now = (k0 >= 0) & (k0 < n - 1) & (S[safe0 + 1] == S[safe0]) if n > 1 else np.zeros(len(tau), bool)
    sid = S[safe0] if n else np.zeros(len(tau), int)
    first = np.searchsorted(S, sid, side="left")
    last = np.searchsorted(S, sid, side="right") - 1
    crosses = (ka < first) | (tau + window[1] * _MINUTE > points.time[last]) if n else np.zeros(len(tau), bool)
    if across_close == "continue":
        lo, hi = np.maximum(ka, 0), kb
        ended = (kb == n - 1) & (tau + window[1] * _MINUTE > points.time[-1]) if n else np.ones(len(tau), bool)
    else:
        lo, hi = np.maximum(ka, first), np.minimum(kb, last)
        ended = np.zeros(len(tau), bool)
    lo_e, hi_e = np.maximum(kea, 0), np.maximum(keb, 0)
    n_e = N[hi_e] - N[lo_e]
    n_w = N[hi] - N[lo]
    ret, pre, post = L[hi] - L[lo], L[safe0] - L[lo], L[hi] - L[safe0]
    with np.errstate(invalid="ignore", divide="ignore"):
        s1, s2 = C1[hi_e] - C1[lo_e], C2[hi_e] - C2[lo_e]
        mean = s1 / n_e
        var = (s2 - n_e * mean ** 2) / (n_e - 1)
        out = {"alpha": np.full(len(tau), np.nan), "beta": np.full(len(tau), np.nan)}
        if model == "drift":
            expected = mean * n_w
            var_ar = var * (n_w + n_w ** 2 / n_e)
            out["alpha"] = mean
            dof = n_e - 1
        elif model == "raw":
            expected = np.zeros(len(tau))
            var_ar = var * n_w
            dof = n_e - 1
        else:
            if bench is None:
                raise ImpactError("model='benchmark' needs benchmark bars; pass benchmark='SPY' (a symbol in the bars)")
            kx = as_of(bench, points.time)
            lb = np.where(kx >= 0, bench.logp[np.maximum(kx, 0)], np.nan)
            x = np.r_[0.0, np.diff(lb)]
            joint = valid & np.isfinite(x)
            x = np.where(joint, x, 0.0)
            nb, cx, cy = np.cumsum(joint), _cum(x, joint), _cum(r, joint)
            cxx, cxy, cyy = _cum(x * x, joint), _cum(x * r, joint), _cum(r * r, joint)
            m = nb[hi_e] - nb[lo_e]
            sx, sy = cx[hi_e] - cx[lo_e], cy[hi_e] - cy[lo_e]
            sxx = cxx[hi_e] - cxx[lo_e] - sx ** 2 / m
            sxy = cxy[hi_e] - cxy[lo_e] - sx * sy / m
            syy = cyy[hi_e] - cyy[lo_e] - sy ** 2 / m
            beta = sxy / sxx
            alpha = (sy - beta * sx) / m
            resid = np.maximum(syy - beta * sxy, 0.0) / (m - 2)
            xw = cx[hi] - cx[lo]
            expected = alpha * n_w + beta * xw
            var_ar = resid * (n_w + n_w ** 2 / m + (xw - n_w * sx / m) ** 2 / sxx)
            out.update(alpha=alpha, beta=beta)
            var, n_e, dof = resid, m, m - 2
        ar = ret - expected
        var, var_ar = np.maximum(var, 0.0), np.maximum(var_ar, 0.0)  # rounding below 0 when sigma is 0
        se = np.sqrt(var_ar)
        t = ar / se
    reason = np.select(
        [k0 < 0, ~open_now, (across_close == "exclude") & crosses, ended, kea < 0, n_e < min_bars],
        ["no bars before the instant", "market closed at the instant under these hours",
         "window reaches past the session's open or close (across_close='exclude')", "bars end before the window does",
         "bars start after the estimation window does", "estimation window too short"], "")
    return {**out, "k0": k0, "lo": lo, "hi": hi, "session": sid, "crosses_session": crosses, "ret": ret,
            "pre": pre, "post": post, "expected": expected, "ar": ar, "se": se, "t": t,
            "p_value": t_pvalue(t, np.where(dof > 0, dof, np.nan)), "sigma": np.sqrt(var), "n_bars": n_w,
            "n_est": n_e, "reason": reason}


def _max_over(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, fill: float) -> np.ndarray:
    """max(values[lo+1 .. hi]) per window; ``fill`` for empty windows."""
    out = np.full(len(lo), fill, dtype=float)
    for i in np.flatnonzero(hi > lo):
        out[i] = values[lo[i] + 1: hi[i] + 1].max()
    return out


def event_instants(events) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``event_id, instant`` (UTC) of the events with an exact time, and the excluded rest."""
    if isinstance(events, Catalog):
        frame = events.events
        exact = frame["time_local"].astype(bool)
        local = frame["date"] + pd.to_timedelta(frame["time_local"].where(exact, "00:00") + ":00")
        instants = [d.tz_localize(z, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")
                    for d, z in zip(local[exact], frame["timezone"][exact])]
        kept = pd.DataFrame({"event_id": frame["event_id"][exact].to_numpy(),
                             "instant": pd.DatetimeIndex(instants, tz="UTC").as_unit("ns")})
        dropped = pd.DataFrame({"event_id": frame["event_id"][~exact].to_numpy(), "asset": "",
                                "reason": "no exact time of day in the catalog: a minutes window needs the instant"})
        return kept, dropped
    if isinstance(events, Mapping):
        events = pd.DataFrame({"event_id": list(events), "instant": list(events.values())})
    if isinstance(events, pd.DataFrame):
        if "event_id" not in events.columns:
            raise ImpactError("intraday events need an event_id column and an instant column (tz-aware)")
        return (pd.DataFrame({"event_id": events["event_id"].astype(str).to_numpy(),
                              "instant": instants_from_frame(events).to_numpy()}),
                pd.DataFrame(columns=["event_id", "asset", "reason"]))
    raise ImpactError(f"intraday events must be a Catalog, a DataFrame (event_id, instant) or a dict, "
                      f"not {type(events).__name__}")


def _check_windows(window, estimation) -> tuple[tuple[int, int], tuple[int, int]]:
    a, b = (int(v) for v in window)
    if not a <= 0 < b:
        raise ImpactError(f"intraday window {window!r} must run from a <= 0 to b > 0 minutes, e.g. (-30, 120)")
    estimation = (a - 7 * 1440, a) if estimation is None else tuple(int(v) for v in estimation)
    if not estimation[0] < estimation[1] <= a:
        raise ImpactError(f"estimation window {estimation!r} must end at or before the event window's start ({a})")
    return (a, b), estimation


@dataclass
class IntradayStudy:
    """An event study on intraday bars around exact announcement instants.

    >>> study = IntradayStudy(bars, catalog, window=(-30, 120), model="benchmark", benchmark="SPY")
    >>> result = study.fit()          # IntradayResult: .windows, .excluded, .summary(), .plot(), .tests()
    """

    bars: pd.DataFrame
    events: object
    assets: list[str] | None = None
    window: tuple[int, int] = (-30, 120)
    estimation: tuple[int, int] | None = None
    model: str = "drift"
    benchmark: str | None = None
    hours: str = "regular"
    across_close: str = "clip"
    interval: str | None = None
    session_break: float = 60.0
    halt_minutes: float = 10.0
    limits: Mapping[str, float] | None = None
    min_bars: int = 30

    def __post_init__(self):
        for name, value, allowed in (("model", self.model, MODELS), ("hours", self.hours, HOURS),
                                     ("across_close", self.across_close, ACROSS_CLOSE)):
            if value not in allowed:
                raise ImpactError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        self.window, self.estimation = _check_windows(self.window, self.estimation)
        if not set(BAR_COLUMNS) <= set(self.bars.columns):
            self.bars = validate_bars(self.bars, "bars", self.interval)
        self._rows = self.bars.groupby("symbol", sort=False).indices  # symbol -> row positions, once
        have = [str(s) for s in self._rows]
        if self.model == "benchmark" and self.benchmark not in have:
            raise ImpactError(f"model='benchmark' needs benchmark= one of the bars' symbols ({', '.join(have)})")
        assets = [s for s in have if s != self.benchmark] if self.assets is None else list(self.assets)
        missing = [s for s in assets if s not in have]
        if missing:
            raise ImpactError(f"no bars for {', '.join(missing)} (the bars hold {', '.join(have)})")
        self.assets = assets
        self.minutes = interval_minutes(self.interval) if self.interval else _infer_minutes(self.bars)

    @property
    def estimation_window(self) -> tuple[int, int]:
        """The estimation window in minutes (resolved: the week before the event window by default)."""
        return _check_windows(self.window, self.estimation)[1]

    def rows(self, symbol: str) -> np.ndarray:
        """Positions of ``symbol``'s bars in ``bars``."""
        return self._rows[symbol]

    def points(self, symbol: str) -> Points:
        rows = self.bars.iloc[self._rows[symbol]]
        return session_points(rows, symbol, self.minutes, self.hours, self.session_break)

    def fit(self) -> IntradayResult:
        instants, excluded = event_instants(self.events)
        tau = instants["instant"].dt.as_unit("ns").array.asi8
        bench = self.points(self.benchmark) if self.benchmark else None
        frames, points = [], {}
        for asset in self.assets or []:
            pts = points[asset] = self.points(asset)
            if len(pts.time) < 2:
                excluded = pd.concat([excluded, pd.DataFrame({
                    "event_id": instants["event_id"], "asset": asset,
                    "reason": f"no bars inside {asset}'s {self.hours} hours"})], ignore_index=True)
                continue
            stats = window_stats(pts, tau, self.window, self.estimation_window, self.model, bench,
                                 self.across_close, self.min_bars)
            frames.append(self._frame(instants, asset, pts, stats))
        if not frames:
            raise ImpactError("no asset has bars inside its trading hours; check the bars' times or use hours='all'")
        table = pd.concat(frames, ignore_index=True)
        dropped = table[table["reason"] != ""]
        excluded = pd.concat([excluded, dropped[["event_id", "asset", "reason"]]], ignore_index=True)
        windows = table[table["reason"] == ""].drop(columns="reason").reset_index(drop=True)
        return IntradayResult(windows=windows, excluded=excluded, study=self, points=points, bench=bench)

    def _frame(self, instants: pd.DataFrame, asset: str, pts: Points, st: dict) -> pd.DataFrame:
        lo, hi = st["lo"], st["hi"]
        gap = np.r_[0.0, np.diff(pts.time) / _MINUTE - self.minutes] if len(pts.time) else np.zeros(0)
        gap = np.where(pts.steps, gap, 0.0)
        ok = st["reason"] == ""
        widest = _max_over(gap, np.where(ok, lo, 0), np.where(ok, hi, 0), 0.0)
        limit = by_asset(self.limits or {}, asset)
        touched = np.zeros(len(lo), bool)
        if limit is not None:
            before = np.searchsorted(pts.session, st["session"], side="left") - 1
            ref = np.where(before >= 0, pts.logp[np.maximum(before, 0)], np.nan)
            top = _max_over(pts.logp, np.where(ok, lo - 1, 0), np.where(ok, hi, 0), -np.inf)
            bottom = -_max_over(-pts.logp, np.where(ok, lo - 1, 0), np.where(ok, hi, 0), -np.inf)
            touched = (top - ref >= np.log1p(limit) - 1e-9) | (bottom - ref <= np.log1p(-limit) + 1e-9)
        when = lambda k: pd.to_datetime(np.where(ok, pts.time[np.clip(k, 0, None)], 0), utc=True)  # noqa: E731
        return pd.DataFrame({
            "event_id": instants["event_id"].to_numpy(), "asset": asset, "instant": instants["instant"].to_numpy(),
            "window_start": when(lo), "window_end": when(hi), "crosses_session": st["crosses_session"],
            "pre": st["pre"], "post": st["post"], "ret": st["ret"], "expected": st["expected"], "ar": st["ar"],
            "se": st["se"], "t": st["t"], "p_value": st["p_value"], "alpha": st["alpha"], "beta": st["beta"],
            "sigma": st["sigma"], "n_bars": st["n_bars"], "n_est": st["n_est"], "longest_gap_minutes": widest,
            "halt": widest >= self.halt_minutes, "limit": touched, "reason": st["reason"],
        })


def _infer_minutes(bars: pd.DataFrame) -> int:
    """The bar length: the most common spacing between consecutive bars of a symbol."""
    gaps = bars.groupby("symbol", sort=False)["time"].diff().dropna()
    if gaps.empty:
        raise ImpactError("cannot tell the bar interval from one bar per symbol; pass interval='5m'")
    return max(1, int(round(gaps.mode().iloc[0] / pd.Timedelta(minutes=1))))
