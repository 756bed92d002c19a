"""The event study: events + prices -> aligned pairs -> normal returns -> ARs and CARs.

Time is counted in each asset's own observed sessions (rows of its series):
day 0 is the session an announcement is first priced in (see :mod:`impact.align`),
the estimation window ``(a, b)`` and event window ``(c, d)`` are inclusive ranges
of sessions relative to day 0, and the estimation window must end before the
event window starts.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ..data.factors import RF, factors_on, ff3_factors, prepare_factors
from ..data.returns import ReturnPanel
from ..data.rolls import roll_exclusions
from ..errors import ImpactError
from ..events.align import align_events
from ..events.assets import by_asset
from ..events.catalog import Catalog, catalog_from_frame, instants_from_frame
from ..events.contamination import MODES as CONTAMINATION_MODES
from ..events.contamination import contamination as find_contamination
from ..progress import progress
from .hypotheses import check_overrides
from .models import (
    FACTOR_MODELS,
    MODELS,
    NEEDS_BENCHMARK,
    check_model_mix,
    concat_fits,
    fit_by_model,
    fit_from_moments,
    fit_garch,
    fit_normal_returns,
)
from .result import EventStudyResult
from .windows import RowSource, Window, check_window, window_dates


class EventStudy:
    """An event study of announcements on asset prices.

    Parameters
    ----------
    prices : DataFrame
        Tidy (``date, symbol, close[, adj_close]``) or wide (dates x symbols) closes.
    events : Catalog or DataFrame
        A :class:`~impact.events.Catalog`; a frame with ``event_id`` and instant
        columns (``date``, ``timezone``, optional ``time_local``/``us_timing``, or a
        tz-aware ``instant``); or a frame of ``event_id, asset, date`` (day 0 is the
        asset's first session on or after ``date``). A frame of ``event_id, date``
        applies each date to every asset.
    market : str or mapping, optional
        Benchmark symbol, or a mapping keyed by asset, asset class or ``"default"``
        (e.g. ``{"default": "GSPC", "china_equity": "HSI"}``).
    model : str or mapping, default "market"
        Normal-return model, one of "market", "constant_mean", "market_adjusted",
        "raw", "ff3", "factors", "garch" (formulas and references in
        :mod:`impact.models`), or a mapping keyed by asset, asset class or
        ``"default"`` (e.g. ``{"default": "market", "equity_index": "constant_mean",
        "agriculture_future": "constant_mean"}``): a market-wide shock moves the
        benchmark itself, so the index, commodities and FX are better measured
        against their own mean (docs/methods.md, "Study design"). One study may mix
        one regression family (market/market_adjusted, or one factor model) with
        constant_mean and raw; ``result.params["model"]`` gives each pair's model.
        ``ff3`` regresses excess returns R - rf on the bundled Fama-French factors
        (converted from percent to decimals); ``factors`` on the columns of ``factors=``;
        ``garch`` is the market model with GARCH(1,1) errors (extra ``impact[garch]``).
    estimation_window, event_window : (int, int)
        Inclusive session ranges relative to day 0.
    returns : {"log", "simple"}
    assets : list of str, optional
        Assets to study; default every symbol in ``prices`` except the benchmarks.
    min_estimation_obs : int, optional
        Pairs with fewer usable estimation rows are excluded (default: 40% of the
        estimation window, rounded up: 100 of the default 250 sessions). Other events'
        windows and roll days are left out of estimation by default, so clustered
        news (30 announcements in 2025) can cost a window a third of its rows; 40%
        keeps such pairs while still refusing a window that is mostly missing.
    alignment_policy : {"earliest", "latest"}
        Session chosen when an unknown time of day leaves day 0 uncertain.
    estimation_exclusions : DataFrame, optional
        Sessions (``asset, date, reason``) to leave out of every estimation window
        (e.g. futures roll days, other events' windows); when one falls inside an
        event window the pair is flagged ``reason@rel_day``.
    contamination : {"exclude", "merge", "ignore"}
        Other events of the same asset (see :mod:`impact.contamination`):
        "exclude" (default) leaves their event windows out of each estimation
        window and flags overlapping event windows ``overlap:<id>@<+k>``; "merge"
        also keeps only the first event of each overlapping cluster (the others
        are excluded with the reason); "ignore" only flags. The decisions are in
        ``result.alignment`` and ``result.contamination``.
    factors : DataFrame, optional
        Daily simple factor returns in decimals, indexed by date (or with a ``date``
        column), for ``model="factors"`` (or to replace the bundled ones for ``"ff3"``).
        A column ``rf`` is subtracted from the asset's return instead of being a regressor.
    roll_days : "auto", DataFrame, path or None
        Futures roll days, excluded from estimation and flagged ``roll@rel_day`` in
        event windows. ``"auto"`` (default) detects them in tidy ``prices``
        (:func:`impact.rolls.detect_rolls`); a frame/CSV of ``symbol, date`` is a user
        roll calendar; None disables.
    hypotheses : mapping, optional
        Overrides of each asset's expected sign on an escalation (asset, asset
        class or ``default`` -> ``"+"``/``"-"``, or -> ``{kind: sign}``); the defaults
        and their reasons are in the asset registry (:mod:`impact.hypotheses`). Used
        by ``result.caar_aligned`` and the report's sign-aligned pooling.
    gap_days : bool, default True
        Leave returns that span more than one session of the asset's calendar (missing
        closes; :func:`impact.data.gap_returns`) out of estimation, flagged
        ``gap:<n> sessions@<+k>`` where one falls in an event window.
    """

    def __init__(
        self,
        prices: pd.DataFrame | None,
        events: Catalog | pd.DataFrame,
        market: str | Mapping[str, str] | None = "GSPC",
        model: str = "market",
        estimation_window: Window = (-260, -11),
        event_window: Window = (-5, 5),
        returns: str = "log",
        *,
        assets: list[str] | None = None,
        min_estimation_obs: int | None = None,
        alignment_policy: str = "earliest",
        price_column: str | None = None,
        returns_data: pd.DataFrame | None = None,
        estimation_exclusions: pd.DataFrame | None = None,
        contamination: str = "exclude",
        factors: pd.DataFrame | None = None,
        roll_days: str | pd.DataFrame | None = "auto",
        hypotheses: Mapping | None = None,
        gap_days: bool = True,
    ):
        if not isinstance(model, (str, Mapping)):
            raise ImpactError(f"model must be a model name or a mapping asset/class -> model, got {model!r}")
        if isinstance(model, str) and model not in MODELS:
            raise ImpactError(f"unknown model {model!r} (choose from {', '.join(MODELS)})")
        self.estimation_window = check_window(estimation_window, "estimation_window")
        self.event_window = check_window(event_window, "event_window")
        if self.estimation_window[1] >= self.event_window[0]:
            raise ImpactError(
                f"estimation_window {self.estimation_window} must end before event_window {self.event_window} starts"
            )
        if (prices is None) == (returns_data is None):
            raise ImpactError("give either prices or returns_data (EventStudy.from_returns), not both or neither")
        self.model_spec = model
        self.hypotheses = check_overrides(hypotheses)
        self.market = market
        self.returns_kind = returns
        self.alignment_policy = alignment_policy
        length = self.estimation_window[1] - self.estimation_window[0] + 1
        if min_estimation_obs is not None and (isinstance(min_estimation_obs, bool) or not isinstance(
                min_estimation_obs, (int, np.integer)) or min_estimation_obs < 1):
            raise ImpactError(f"min_estimation_obs must be a positive whole number of sessions, got {min_estimation_obs!r}")
        self.min_estimation_obs = int(min_estimation_obs) if min_estimation_obs is not None else math.ceil(0.4 * length)
        if prices is not None:
            self.panel = ReturnPanel.from_prices(prices, returns, price_column)
        else:
            self.panel = ReturnPanel.from_returns(returns_data)
        self.prices = prices  # the input frame (None for returns data), e.g. for quality checks
        self.events = events
        self.assets = assets
        # Each asset's model; ``model`` is the one name when all agree, else "mixed".
        self.asset_models = {a: self._resolve_model(a) for a in self._study_assets()}
        used = set(self.asset_models.values()) or ({model} if isinstance(model, str) else set())
        check_model_mix(used)
        self.model = next(iter(used)) if len(used) == 1 else "mixed"
        model = self.model if self.model != "mixed" else next((m for m in used if m in FACTOR_MODELS), "mixed")
        if estimation_exclusions is not None:
            missing = {"asset", "date", "reason"} - set(estimation_exclusions.columns)
            if missing:
                raise ImpactError("estimation_exclusions needs columns asset, date, reason "
                                  f"(missing {', '.join(sorted(missing))})")
        # Futures roll days join the exclusions (reason "roll"): see impact.rolls.
        self.roll_days = roll_days
        rolls = roll_exclusions(prices if isinstance(prices, pd.DataFrame) else None, roll_days)
        if rolls is not None:
            estimation_exclusions = rolls if estimation_exclusions is None else pd.concat(
                [estimation_exclusions, rolls], ignore_index=True)
        # Returns spanning several calendar sessions (a hole in the series) are not daily
        # returns: left out of estimation and flagged gap:<n>@<+k> inside event windows.
        gaps = self.panel.gaps() if gap_days else None
        if gaps is not None and len(gaps):
            estimation_exclusions = gaps if estimation_exclusions is None else pd.concat(
                [estimation_exclusions, gaps], ignore_index=True)
        self.estimation_exclusions = estimation_exclusions
        if contamination not in CONTAMINATION_MODES:
            raise ImpactError(f"unknown contamination {contamination!r} (choose from {', '.join(CONTAMINATION_MODES)})")
        self.contamination = contamination
        if model in FACTOR_MODELS:
            if factors is None and model == "factors":
                raise ImpactError("model 'factors' needs factors= (a DataFrame of factor returns by date)")
            self.factors = ff3_factors() if factors is None else prepare_factors(factors)
        elif factors is not None:
            raise ImpactError(f"factors= is used by model 'ff3' or 'factors', not {model!r}")
        else:
            self.factors = None

    @classmethod
    def from_returns(cls, returns_data: pd.DataFrame, /, events: Catalog | pd.DataFrame, **kwargs) -> EventStudy:
        """A study on a wide frame of returns (rows are the time axis; NaN = missing);
        ``returns="log"|"simple"`` says which kind they are (positional-only frame, so it can)."""
        return cls(None, events, returns_data=returns_data, **kwargs)

    # -- set-up ---------------------------------------------------------------------------
    def _resolve_model(self, asset: str) -> str:
        if isinstance(self.model_spec, str):
            return self.model_spec
        found = by_asset(self.model_spec, asset)
        if found is None:
            raise ImpactError(f"model: no entry for {asset} (nor its asset class) and no 'default'; "
                              "add one to the model mapping")
        if found not in MODELS:
            raise ImpactError(f"model for {asset}: unknown model {found!r} (choose from {', '.join(MODELS)})")
        return found

    def model_of(self, asset: str) -> str:
        """The normal-return model used for ``asset``."""
        if asset not in self.asset_models:
            self.asset_models[asset] = self._resolve_model(asset)
            check_model_mix(set(self.asset_models.values()))
        return self.asset_models[asset]

    def _benchmark_of(self, asset: str) -> str | None:
        if isinstance(self.market, Mapping):
            return by_asset(self.market, asset)
        return self.market

    def _study_assets(self) -> list[str]:
        if self.assets is not None:
            self.panel.require(self.assets)
            return list(dict.fromkeys(self.assets))
        benchmarks = set(self.market.values()) if isinstance(self.market, Mapping) else {self.market}
        return [s for s in self.panel.symbols if s not in benchmarks]

    def _pair_models(self, assets) -> str | np.ndarray:
        """The model name when the study has one, else each pair's model (for :func:`fit_by_model`)."""
        if self.model != "mixed":
            return self.model
        return np.array([self.model_of(a) for a in assets], dtype=object)

    def _pairs(self, assets: list[str]) -> pd.DataFrame:
        """event_id, asset, day0 (session date or given date), rule, flags."""
        events = self.events
        if isinstance(events, Catalog):
            return align_events(events.events, assets, self.alignment_policy)
        if not isinstance(events, pd.DataFrame):
            raise ImpactError(f"events must be a Catalog or a DataFrame, got {type(events).__name__}")
        if "event_id" not in events.columns:
            raise ImpactError("events frame needs an 'event_id' column")
        if "instant" in events.columns:
            instants = instants_from_frame(events)  # a naive instant is refused, never read as UTC
            frame = pd.DataFrame({
                "event_id": events["event_id"].astype(str),
                "date": instants.dt.tz_localize(None).dt.normalize(),
                "time_local": instants.dt.strftime("%H:%M"),
                "timezone": "UTC",
                "us_timing": "unknown",
            })
            return align_events(frame, assets, self.alignment_policy)
        if "timezone" in events.columns and "asset" not in events.columns:
            frame = events.copy()
            for column, default in (("actor", "US"), ("kind", "other"), ("direction", "neutral"),
                                    ("title", "(untitled)"), ("source", "user"), ("confidence", "medium")):
                if column not in frame.columns:
                    frame[column] = default
            return align_events(catalog_from_frame(frame, "<events frame>").events, assets, self.alignment_policy)
        if "date" not in events.columns:
            raise ImpactError("events frame needs either instant columns (date, timezone) or a 'date' column")
        dates = pd.to_datetime(events["date"], errors="coerce")
        if dates.isna().any():
            bad = events["date"][dates.isna()].iloc[0]
            raise ImpactError(f"events: unparseable date {bad!r} (event {events['event_id'][dates.isna()].iloc[0]})")
        if "asset" in events.columns:
            pairs = pd.DataFrame({"event_id": events["event_id"].astype(str), "asset": events["asset"].astype(str),
                                  "day0": dates.dt.normalize()})
            self.panel.require(pairs["asset"], "event asset")
        else:
            pairs = pd.DataFrame({"event_id": events["event_id"].astype(str), "day0": dates.dt.normalize()})
            pairs = pairs.merge(pd.DataFrame({"asset": assets}), how="cross")
        pairs["rule"] = "given_date"
        pairs["flags"] = ""
        return pairs

    def _contaminate(self, pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
        """Apply the contamination policy: (pairs to estimate, estimation exclusions, merged pairs)."""
        sessions = {a: self.panel.returns[a].index for a in pairs["asset"].unique() if a in self.panel.returns}
        found = find_contamination(pairs, sessions, self.event_window, self.contamination)
        self.contamination_report = found.overlaps
        extra = found.flags.to_numpy(dtype=object)
        has = extra != ""
        if has.any():
            flags = pairs["flags"].astype(str).to_numpy(dtype=object).copy()
            flags[has] = [f"{f};{g}" if f else g for f, g in zip(flags[has], extra[has])]
            pairs = pairs.assign(flags=flags)
        merged = found.reason != ""
        self._event_windows = found.windows  # other events' windows leave estimation (no per-day notes)
        return (pairs[~merged].reset_index(drop=True), self.estimation_exclusions,
                pairs[merged].assign(excluded_reason=found.reason[merged]).reset_index(drop=True))

    @staticmethod
    def _with_merged(merged: pd.DataFrame, result: EventStudyResult) -> EventStudyResult:
        """Record pairs merged into an earlier overlapping event as excluded, with the reason."""
        if len(merged):
            result.excluded = pd.concat([result.excluded, merged[["event_id", "asset", "excluded_reason"]]
                                         .rename(columns={"excluded_reason": "reason"})], ignore_index=True)
            result.alignment = pd.concat([result.alignment, merged], ignore_index=True)
        return result

    # -- estimation -----------------------------------------------------------------------
    #: Pairs estimated per chunk: bounds the (pairs x estimation window) work arrays
    #: (about a dozen of chunk_size x L floats, ~4 MB each for L = 250). Small enough that
    #: the allocator reuses them between chunks instead of faulting in fresh pages
    #: (measured fastest on the 2-core CI machine among 1k-16k).
    chunk_size: int = 2_048

    def _design(self, asset: str, bench: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str] | None]:
        """Model inputs on the asset's own rows: y (n,), regressors X (n, k), raw returns (n,),
        regressor names (None for a model that ignores its regressors)."""
        r = self.panel.returns[asset]
        ret = r.to_numpy(dtype=float)
        model = self.model_of(asset)
        if model in ("constant_mean", "raw"):
            # Regressors are ignored: zeros of the study's width keep one design matrix.
            return ret, np.zeros((len(ret), self._n_regressors())), ret, None
        # Assets sharing a time axis (a returns frame, one exchange) share their regressors.
        cache = self.__dict__.setdefault("_design_cache", {})
        key = (bench if model in NEEDS_BENCHMARK else None)
        hit = cache.get(key)
        if model in FACTOR_MODELS:
            if hit is not None and hit[0].equals(r.index):
                f = hit[1]
            else:
                f = factors_on(self.factors, r.index)
                cache[key] = (r.index, f)
            names = [c for c in f.columns if c != RF]
            y = ret - f[RF].to_numpy() if RF in f.columns else ret
            return y, f[names].to_numpy(dtype=float), ret, names
        if model in NEEDS_BENCHMARK:
            if bench == asset:
                return ret, ret[:, None], ret, [str(bench)]
            if hit is not None and hit[0].equals(r.index):
                x = hit[1]
            else:
                x = self.panel.benchmark_on(bench, asset).to_numpy(dtype=float)
                cache[key] = (r.index, x)
            return ret, x[:, None], ret, [str(bench)]
        return ret, np.zeros((len(ret), 1)), ret, ["none"]

    def _n_regressors(self) -> int:
        """Columns of the design matrix: the factors of a factor model, else one (the benchmark)."""
        if self.factors is not None and any(m in FACTOR_MODELS for m in self.asset_models.values()):
            return len([c for c in self.factors.columns if c != RF])
        return 1

    #: "windows" (default): gather every pair's (pairs x L) estimation window and fit all
    #: of them in batched closed form (garch always uses it). "moments": the same OLS from
    #: window sums of per-asset prefix sums, O(rows + pairs) and ~1.5x faster at 1M pairs;
    #: it agrees to ~1e-13 but not to the last bits (SSR = Syy - b'Sxy rounds differently),
    #: so the default stays bit-faithful to the window-by-window fit.
    engine: str = "windows"

    def _fit_by_moments(self, Y, X, finite_row, usable_row, offsets, n_rows, pos, lo, ea, eb, names, models):
        """Closed-form fits of all pairs from window sums (:func:`impact.models.fit_from_moments`).

        Per asset, returns are shifted by their mean over usable rows and cumulated;
        a window's sum is the difference of two prefix sums within the asset's
        segment (its rows and the NaN padding after them), so no sum ever carries
        another asset's magnitude and rounding stays at the window's own scale.
        """
        k = X.shape[1]
        # Segments: the leading padding, then each asset's rows with the padding after them.
        starts = np.unique(np.r_[0, np.fromiter(offsets.values(), dtype=np.int64)])
        lengths = np.diff(np.r_[starts, n_rows])
        u = usable_row
        # Segment means over usable rows (the shift), spread back over each segment's rows.
        count = np.add.reduceat(u.astype(float), starts)
        safe = np.where(count > 0, count, 1.0)
        my = np.add.reduceat(np.where(u, Y, 0.0), starts) / safe
        mx = np.add.reduceat(np.where(u[:, None], X, 0.0), starts, axis=0) / safe[:, None]
        row_my, row_mx = np.repeat(my, lengths), np.repeat(mx, lengths, axis=0)
        ys = np.where(u, Y - row_my, 0.0)
        xs = np.where(u[:, None], X - row_mx, 0.0)

        def seg_cumsum(v):
            """Prefix sums restarting at each segment: the previous segment's total is taken
            out at the next start, so a running sum never carries another asset's size.
            Works in place on ``v`` (always a temporary here)."""
            v[starts[1:]] -= np.add.reduceat(v, starts, axis=0)[:-1]
            out = np.empty((n_rows + 1,) + v.shape[1:])
            out[0] = 0.0
            np.cumsum(v, axis=0, out=out[1:])
            return out

        C = {"n": seg_cumsum(u.astype(float)), "yy": seg_cumsum(ys * ys),
             "xx": seg_cumsum(xs[:, :, None] * xs[:, None, :]), "xy": seg_cumsum(xs * ys[:, None])}
        C["y"], C["x"] = seg_cumsum(ys), seg_cumsum(xs)
        fm = finite_row & ~u
        C["fm"] = seg_cumsum(fm.astype(float)) if fm.any() else None
        shift_y = np.zeros(n_rows)
        shift_x = np.zeros((n_rows, k))
        shift_y[starts], shift_x[starts] = my, mx
        # Window [pos+ea, pos+eb] clipped to the segment start (rows before it are padding).
        a = np.maximum(pos + ea, lo)
        b = np.maximum(pos + eb + 1, lo)

        def wsum(c):
            top = np.where((b > lo).reshape((-1,) + (1,) * (c.ndim - 1)), c[b], 0.0)
            bottom = np.where((a > lo).reshape((-1,) + (1,) * (c.ndim - 1)), c[a], 0.0)
            return top - bottom

        n = np.rint(wsum(C["n"]))
        sums = [wsum(C[key]) for key in ("y", "x", "xx", "xy", "yy")]
        fit = fit_by_model(models, lambda m, i: fit_from_moments(
            m, n[i], *(v[i] for v in sums), shift_y[lo][i], shift_x[lo][i], self.min_estimation_obs, tuple(names)))
        n_masked = np.rint(wsum(C["fm"])).astype(np.int64) if C["fm"] is not None else np.zeros(len(pos), dtype=np.int64)
        return fit, n_masked

    def _place_day0(self, pairs: pd.DataFrame, D: np.ndarray, offsets: dict, lengths: dict, bench: dict,
                    needs_bench: set, reasons: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each pair's day-0 row in the stacked array and its asset's row range (pos, lo, hi).

        Pairs that cannot be placed get their reason in ``reasons``; a day 0 that is not
        an observed session moves to the next one and is flagged ``day0_moved``.
        """
        pos = np.zeros(len(pairs), dtype=np.int64)
        lo = np.zeros(len(pairs), dtype=np.int64)
        hi = np.zeros(len(pairs), dtype=np.int64)
        # Day-0 lookups on plain int64 nanoseconds (NaT is the minimum int64): no pandas in the loop.
        day0_all = pd.DatetimeIndex(pairs["day0"]).as_unit("ns").asi8
        D_i8 = D.view(np.int64)
        nat_all = day0_all == np.iinfo(np.int64).min
        for asset, idx in pairs.groupby("asset", sort=False).indices.items():
            o, m = offsets[asset], lengths[asset]
            dates = D_i8[o:o + m]
            day0 = day0_all[idx]
            p = np.searchsorted(dates, day0, side="left")
            pos[idx] = o + p
            lo[idx] = o
            hi[idx] = o + m
            if asset in needs_bench and bench[asset] == asset:
                reasons[idx] = f"asset is its own benchmark ({asset}): abnormal returns are identically zero"
                continue
            nat = nat_all[idx]
            after = ~nat & (p >= m)
            found = dates[np.clip(p, 0, max(m - 1, 0))] if m else day0
            off = ~nat & ~after & (found != day0)
            before = off & (p == 0)
            moved = off & (p > 0)
            if not (nat.any() or after.any() or off.any()):
                continue
            day = lambda v: f"{pd.Timestamp(v):%Y-%m-%d}"  # noqa: E731
            for i in idx[nat]:
                reasons[i] = pairs.at[i, "reason"] if pairs.get("reason") is not None and pairs.at[i, "reason"] \
                    else "day 0 lies after the end of the trading calendar"  # align_events states why
            for i, d in zip(idx[after], day0[after]):
                reasons[i] = f"no data on or after day 0 ({day(d)}); series ends {day(dates[-1])}"
            for i, d in zip(idx[before], day0[before]):
                reasons[i] = f"series starts {day(dates[0])}, after day 0 ({day(d)})"
            for i, d, f in zip(idx[moved], day0[moved], found[moved]):
                note = f"day0_moved:{day(d)}->{day(f)}"
                flags[i] = f"{flags[i]};{note}" if flags[i] else note

        return pos, lo, hi

    def _row_masks(self, exclusions: pd.DataFrame | None, offsets: dict, n_rows: int) -> tuple[np.ndarray, ...]:
        """Rows left out of estimation windows (masked), why (masked_reason), which of
        them are flagged when they fall in an event window (noted: the given exclusions —
        roll days, gaps, the user's — not other events' windows), and which returns span
        a gap (spans_gap: such a row makes an event window incomplete)."""
        masked = np.zeros(n_rows, dtype=bool)
        masked_reason = np.full(n_rows, "", dtype=object)
        spans_gap = np.zeros(n_rows, dtype=bool)
        if exclusions is not None and len(exclusions):
            ex = exclusions
            for asset, block in ex.groupby(ex["asset"].astype(str), sort=False):
                if asset not in offsets:
                    continue
                dates = self.panel.returns[asset].index
                when = pd.DatetimeIndex(pd.to_datetime(block["date"]))
                p = dates.get_indexer(when)
                hit = p >= 0
                rows = offsets[asset] + p[hit]
                masked[rows] = True
                reason = block["reason"].astype(str)
                masked_reason[rows] = reason.to_numpy()[hit]
                spans_gap[rows] = reason.str.startswith("gap:").to_numpy()[hit]
        noted = masked.copy()  # given exclusions are flagged where they fall in an event window
        windows = getattr(self, "_event_windows", None)
        if windows is not None and len(windows):
            # Sessions inside any event window: +1 at each window start, -1 at its stop, cumulated.
            known = windows["asset"].isin(offsets.keys()).to_numpy()
            base = windows["asset"][known].map(offsets).to_numpy(dtype=np.int64)
            edges = np.zeros(n_rows + 1, dtype=np.int64)
            np.add.at(edges, base + windows["start"].to_numpy(dtype=np.int64)[known], 1)
            np.add.at(edges, base + windows["stop"].to_numpy(dtype=np.int64)[known], -1)
            masked |= np.cumsum(edges[:-1]) > 0
        return masked, masked_reason, noted, spans_gap

    def fit(self) -> EventStudyResult:
        """Estimate every (event, asset) pair in one vectorised pass (chunked to bound memory).

        All assets' rows are concatenated into one array, with NaN padding between
        assets wide enough that no window can reach a neighbour's rows; each pair's
        estimation and event windows are then gathered by fancy indexing and the
        normal-return model is fitted in closed form for a whole chunk of pairs
        at once (:func:`impact.models.fit_normal_returns`).
        """
        assets = self._study_assets()
        self._design_cache = {}  # per fit: the panel may differ between fits
        pairs = self._pairs(assets).reset_index(drop=True)
        if not len(pairs):
            raise ImpactError("no events to study: the events are empty (check the catalog filters or the events frame)")
        pairs, exclusions, merged = self._contaminate(pairs)
        dupes = pairs.duplicated(["event_id", "asset"])
        if dupes.any():
            first = pairs[dupes].iloc[0]
            raise ImpactError(f"event {first['event_id']} is given twice for asset {first['asset']}")
        bench = {a: self._benchmark_of(a) for a in pairs["asset"].unique()}
        needs_bench = {a for a in bench if self.model_of(a) in NEEDS_BENCHMARK}
        if needs_bench:
            missing = [a for a in needs_bench if bench[a] is None]
            if missing:
                raise ImpactError(f"model '{self.model_of(missing[0])}' needs a benchmark; none given for "
                                  f"{', '.join(missing)}")
            self.panel.require([bench[a] for a in needs_bench], "benchmark")

        ea, eb = self.estimation_window
        wa, wb = self.event_window
        # Padding wide enough that no gathered window reaches a neighbour's rows; the prefix-sum
        # engine clips estimation windows itself, so only event windows need it there.
        gathers_estimation = self.engine != "moments" or self.model == "garch"
        pad = max(-ea if gathers_estimation else -wa, wb, 0) + 1
        # One long array of every asset's returns, NaN-padded between assets; pairs index into it.
        offsets, lengths, parts, names = {}, {}, [], None
        start = pad
        for asset in pairs["asset"].unique():
            y, x, ret, nm = self._design(asset, bench[asset])
            names = names or nm  # None for constant_mean/raw assets: the regression assets name them
            offsets[asset], lengths[asset] = start, len(y)
            parts.append((y, x, ret, self.panel.returns[asset].index.to_numpy()))
            start += len(y) + pad
        names = names or ["none"]
        k = parts[0][1].shape[1] if parts else 1
        n_rows = max(start, eb - ea + 1, wb - wa + 1)  # the window views need at least one full window
        Y = np.full(n_rows, np.nan)
        X = np.full((n_rows, k), np.nan)
        uses_factors = any(self.model_of(a) in FACTOR_MODELS for a in offsets)
        R = Y if not uses_factors else np.full(n_rows, np.nan)
        D = np.full(n_rows, np.datetime64("NaT"), dtype="datetime64[ns]")
        for asset, (y, x, ret, dates) in zip(offsets, parts):
            s = offsets[asset]
            Y[s:s + len(y)], X[s:s + len(y)], D[s:s + len(y)] = y, x, dates
            if R is not Y:
                R[s:s + len(y)] = ret
        del parts

        reasons = np.full(len(pairs), "", dtype=object)
        flags = pairs["flags"].astype(str).to_numpy(dtype=object).copy()
        pos, lo, hi = self._place_day0(pairs, D, offsets, lengths, bench, needs_bench, reasons, flags)
        masked, masked_reason, noted, spans_gap = self._row_masks(exclusions, offsets, n_rows)
        has_gaps = bool(spans_gap.any())
        in_series = ~np.isnat(D)

        est_off = np.arange(ea, eb + 1)
        ev_off = np.arange(wa, wb + 1)
        L, W = len(est_off), len(ev_off)
        # Row windows as strided views: gathering a pair's window copies one contiguous run.
        Yw_est, Yw_ev = sliding_window_view(Y, L), sliding_window_view(Y, W)
        Xw_est, Xw_ev = sliding_window_view(X, L, axis=0), sliding_window_view(X, W, axis=0)  # (n, k, L)
        any_masked = bool(masked.any())
        # Row-level flags once, then gathered as bytes: cheaper than testing every window's floats.
        finite_row = np.isfinite(Y) & np.isfinite(X).all(axis=1)
        finite_w = sliding_window_view(finite_row, L)
        usable_w = sliding_window_view(finite_row & ~masked, L) if any_masked else finite_w
        sel = np.flatnonzero(reasons == "")
        models = self._pair_models(pairs["asset"].to_numpy()[sel])
        by_moments = self.engine == "moments" and self.model != "garch"
        if by_moments:
            # Every pair's estimation-window sums from per-asset prefix sums: O(rows + pairs).
            fit_all, n_masked_all = self._fit_by_moments(
                Y, X, finite_row, finite_row & ~masked, offsets, n_rows, pos[sel], lo[sel], ea, eb, names, models)
        fits, ars, raws, xevs, evdates, nmasked, kept_parts = [], [], [], [], [], [], []
        for c0 in progress(range(0, max(len(sel), 1), self.chunk_size), desc="pairs", unit="chunk"):
            s = sel[c0:c0 + self.chunk_size]
            if not len(s):
                break
            if by_moments:
                n_masked = n_masked_all[c0:c0 + len(s)]
            else:
                y_est = Yw_est[pos[s] + ea]
                x_est = np.swapaxes(Xw_est[pos[s] + ea], 1, 2)  # (P, L, k) view of (P, k, L) rows
                usable = usable_w[pos[s] + ea]
                if any_masked:
                    n_masked = np.count_nonzero(finite_w[pos[s] + ea], axis=1) - np.count_nonzero(usable, axis=1)
                else:
                    n_masked = np.zeros(len(s), dtype=np.int64)
            ev_idx = pos[s, None] + ev_off[None, :]
            y_ev = Yw_ev[pos[s] + wa]
            x_ev = np.swapaxes(Xw_ev[pos[s] + wa], 1, 2)
            if any_masked:
                for j, kk in zip(*np.nonzero(noted[ev_idx])):
                    note = f"{masked_reason[ev_idx[j, kk]]}@{ev_off[kk]:+d}"
                    flags[s[j]] = f"{flags[s[j]]};{note}" if flags[s[j]] else note
            # A return spanning a gap (a missing close) is not one session's return: the
            # window would silently hold a multi-day move, so the pair is excluded.
            for j, kk in zip(*np.nonzero(spans_gap[ev_idx])) if has_gaps else ():
                if not reasons[s[j]]:
                    when = pd.Timestamp(D[ev_idx[j, kk]])
                    reasons[s[j]] = (f"event window incomplete: the return at rel_day {ev_off[kk]:+d} ({when:%Y-%m-%d}) "
                                     f"spans a gap ({masked_reason[ev_idx[j, kk]]}); fill the missing close or "
                                     "pass gap_days=False to keep it")
            # Event windows must be complete: a missing return would silently shorten a CAR.
            ev_ok = np.isfinite(y_ev) & np.isfinite(x_ev).all(axis=2)
            for j in np.flatnonzero(~ev_ok.all(axis=1)):
                kk = int(np.argmin(ev_ok[j]))
                day = ev_off[kk]
                if not in_series[ev_idx[j, kk]]:
                    edge = "before the series starts" if day < 0 else "after the series ends"
                    reasons[s[j]] = f"event window incomplete: rel_day {day:+d} falls {edge}"
                else:
                    when = pd.Timestamp(D[ev_idx[j, kk]])
                    reasons[s[j]] = f"event window incomplete: missing return at rel_day {day:+d} ({when:%Y-%m-%d})"
            if by_moments:
                fit = fit_all.take(np.arange(c0, c0 + len(s)))
            elif self.model == "garch":
                fit = fit_garch(y_est, x_est, usable, self.min_estimation_obs, ev_off - eb, tuple(names))
            else:
                chunk_models = models if isinstance(models, str) else models[c0:c0 + len(s)]
                fit = fit_by_model(chunk_models, lambda m, i, y=y_est, x=x_est, u=usable: fit_normal_returns(
                    m, y[i], x[i], u[i], self.min_estimation_obs, tuple(names)))
            for j in np.flatnonzero(fit.problem != ""):
                if not reasons[s[j]]:
                    reasons[s[j]] = fit.problem[j]
            keep = reasons[s] == ""
            fit = fit.take(keep)
            fits.append(fit)
            ars.append(y_ev[keep] - fit.expected(x_ev[keep]))
            raws.append(R[ev_idx[keep]] if R is not Y else y_ev[keep])
            xevs.append(x_ev[keep])
            evdates.append(D[ev_idx[keep]])
            nmasked.append(n_masked[keep])
            kept_parts.append(s[keep])
        kept = np.concatenate(kept_parts) if kept_parts else np.zeros(0, dtype=np.int64)
        W = len(ev_off)
        fit = (concat_fits(fits) if fits else
               fit_normal_returns(self.model if self.model not in ("garch", "mixed") else "market", np.zeros((0, 1)),
                                  np.zeros((0, 1, k)), np.zeros((0, 1), dtype=bool), 1, tuple(names or ())))
        est_dates = window_dates(D, pos[kept], lo[kept], hi[kept], ea, eb)
        pairs["flags"] = flags
        bad = reasons != ""
        excluded = pairs.loc[bad, ["event_id", "asset"]].assign(reason=reasons[bad]).reset_index(drop=True)
        return self._with_merged(merged, EventStudyResult(
            study=self,
            pairs=pairs.loc[kept].reset_index(drop=True),
            fit=fit,
            abnormal=np.concatenate(ars) if ars else np.zeros((0, W)),
            raw=np.concatenate(raws) if raws else np.zeros((0, W)),
            benchmark=np.concatenate(xevs) if xevs else np.zeros((0, W, k)),
            dates=np.concatenate(evdates) if evdates else np.zeros((0, W), dtype="datetime64[ns]"),
            estimation_dates=est_dates,
            estimation_masked=np.concatenate(nmasked) if nmasked else np.zeros(0, dtype=int),
            excluded=excluded,
            alignment=pairs.assign(excluded_reason=reasons),
            rows=RowSource(Y, X, D, masked, pos[kept], lo[kept], hi[kept]),
        ))
