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

from ..data.factors import RF, ff3_factors, prepare_factors
from ..data.returns import ReturnPanel
from ..data.rolls import roll_exclusions
from ..data.splice import splice
from ..errors import ImpactError
from ..events.align import SESSION_PARTS
from ..events.assets import by_asset
from ..events.catalog import Catalog
from ..events.contamination import MODES as CONTAMINATION_MODES
from ..events.contamination import asset_codes
from ..progress import progress
from ..textruns import empty_texts, repeated_text
from .chunks import StackedRows, fit_pairs
from .distributed import dask_client, fit_distributed
from .engine import design, fit_by_moments, place_day0, regressor_sources, row_masks, stack_rows
from .hypotheses import check_overrides
from .models import (
    FACTOR_MODELS,
    MODELS,
    NEEDS_BENCHMARK,
    check_model_mix,
    fit_normal_returns,
)
from .pairs import apply_contamination, pairs_from_events, repeated_pairs, with_merged
from .result import EventStudyResult
from .windows import RowSource, Window, check_window

ENGINES = ("auto", "windows", "moments", "dask")


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
    roll_adjust : {None, "splice"}, default None
        ``"splice"``: tidy futures prices back-adjusted at those roll days first, each roll-day return
        replaced by the roll benchmark fund's or clipped to 4 robust sd (:mod:`impact.data.splice`).
    hypotheses : mapping, optional
        Overrides of each asset's expected sign on an escalation (asset, asset
        class or ``default`` -> ``"+"``/``"-"``, or -> ``{kind: sign}``); the defaults
        and their reasons are in the asset registry (:mod:`impact.hypotheses`). Used
        by ``result.caar_aligned`` and the report's sign-aligned pooling.
    gap_days : bool, default True
        Leave returns that span more than one session of the asset's calendar (missing
        closes; :func:`impact.data.gap_returns`) out of estimation, flagged
        ``gap:<n> sessions@<+k>`` where one falls in an event window.
    session_part : {"close", "overnight", "trading"}, default "close"
        Close to close, the overnight gap (previous close -> open) or the trading session
        (open -> close), the model fitted on the same part; needs tidy prices with opens.
        Day 0, the part holding the news and the exclusions: :mod:`impact.events.align`,
        docs/methods.md "Where in the day".
    engine : {"auto", "windows", "moments", "dask"}, optional
        How :meth:`fit` runs (see :attr:`engine`); "dask" needs ``impact[dask]`` and a client.
    """

    def __init__(
        self,
        prices: pd.DataFrame | None,
        events: Catalog | pd.DataFrame,
        market: str | Mapping[str, str] | None = "GSPC",
        model: str | Mapping[str, str] = "market",
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
        roll_adjust: str | None = None,
        hypotheses: Mapping | None = None,
        gap_days: bool = True,
        session_part: str = "close",
        engine: str | None = None,
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
        if session_part not in SESSION_PARTS or (prices is None and session_part != "close"):
            raise ImpactError(f"session_part={session_part!r} needs prices with opens, not returns_data"
                              if session_part in SESSION_PARTS else
                              f"unknown session_part {session_part!r} (choose from {', '.join(SESSION_PARTS)})")
        self.session_part = session_part
        self.engine = self.engine if engine is None else engine  # checked by fit(): tests set it after __init__
        prices = splice(prices, roll_adjust, roll_days) if roll_adjust is not None else prices
        self.panel = (ReturnPanel.from_prices(prices, returns, price_column, session_part) if prices is not None
                      else ReturnPanel.from_returns(returns_data))
        self.prices = prices  # the input frame (None for returns data), e.g. for quality checks
        self.events = events
        self.assets = assets
        # Each asset's model; ``model`` is the one name when all agree, else "mixed".
        self.asset_models = {a: self._resolve_model(a) for a in self._study_assets()}
        used = set(self.asset_models.values()) or ({model} if isinstance(model, str) else set())
        check_model_mix(used)
        self.model = next(iter(used)) if len(used) == 1 else "mixed"
        model = self.model if self.model != "mixed" else next((m for m in used if m in FACTOR_MODELS), "mixed")
        missing = {"asset", "date", "reason"} - set(estimation_exclusions.columns if estimation_exclusions is not None
                                                    else ("asset", "date", "reason"))
        if missing:
            raise ImpactError(f"estimation_exclusions needs columns asset, date, reason (missing {', '.join(sorted(missing))})")
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

    def __repr__(self) -> str:
        events = self.events.events if isinstance(self.events, Catalog) else self.events
        return (f"EventStudy(model={self.model!r}, events={len(events)}, assets={len(self.asset_models)}, "
                f"estimation_window={self.estimation_window}, event_window={self.event_window}, "
                f"returns={self.returns_kind!r}" + (f", session_part={self.session_part!r})"
                                                     if self.session_part != "close" else ")"))

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
        return by_asset(self.market, asset) if isinstance(self.market, Mapping) else self.market

    def _study_assets(self) -> list[str]:
        if self.assets is not None:
            self.panel.require(self.assets)
            return list(dict.fromkeys(self.assets))
        benchmarks = set(self.market.values()) if isinstance(self.market, Mapping) else {self.market}
        return [s for s in self.panel.symbols if s not in benchmarks]

    def _pair_models(self, pairs: pd.DataFrame, sel: np.ndarray) -> str | np.ndarray:
        """The model name when the study has one, else the model of each pair ``sel`` (for :func:`fit_by_model`)."""
        return self.model if self.model != "mixed" else np.array(
            [self.model_of(a) for a in pairs["asset"].to_numpy()[sel]], dtype=object)

    # -- estimation -----------------------------------------------------------------------
    #: Pairs per chunk: bounds the work arrays (a dozen of chunk_size x L floats, ~4 MB each for
    #: L = 250) so the allocator reuses them (measured fastest on the 2-core CI among 1k-16k).
    chunk_size: int = 2_048

    #: "windows": gather every pair's (pairs x L) estimation window, fit all in batched closed form
    #: (garch always). "moments": the same OLS from prefix sums, O(rows + pairs), several times faster
    #: at 1M pairs, agrees to ~1e-13 but not to the last bits (SSR = Syy - b'Sxy rounds differently).
    #: "auto" (default): "moments" from ``moments_from`` pairs on, where gathering every estimation
    #: window dominates, else "windows". "dask": the "windows" fit on a ``dask.distributed`` cluster
    #: (:mod:`impact.study.distributed`).
    engine: str = "auto"
    moments_from: int = 100_000
    #: Pairs per Dask task (whole day-0 dates, so a date with more pairs is one task).
    partition_size: int = 65_536

    def fit(self, client=None) -> EventStudyResult:
        """Estimate every (event, asset) pair in one vectorised pass (chunked to bound memory).

        All assets' rows are concatenated into one array, NaN-padded so no window reaches a
        neighbour's rows; each pair's windows are gathered by fancy indexing and the model is
        fitted in closed form for a whole chunk of pairs at once (:func:`impact.models.fit_normal_returns`).
        ``client``, a ``dask.distributed.Client`` (or engine "dask", which takes the running
        one): the chunks are fitted on its workers, partitioned by day-0 date, by the "windows"
        fit (whatever the engine): the same numbers as a local "windows" fit.
        """
        if self.engine not in ENGINES:
            raise ImpactError(f"unknown engine {self.engine!r} (choose from {', '.join(ENGINES)})")
        client = dask_client(client) if client is not None or self.engine == "dask" else None
        assets = self._study_assets()
        self._design_cache: dict = {}  # per fit: the panel may differ between fits
        pairs = pairs_from_events(self.events, assets, self.alignment_policy, self.panel,
                                  self.session_part).reset_index(drop=True)
        if not len(pairs):
            raise ImpactError("no events to study: the events are empty (check the catalog filters or the events frame)")
        by_asset = asset_codes(pairs)  # the assets in order of first appearance: one pass over the texts
        sessions = self.panel.indexes(by_asset[1].tolist())
        pairs, merged, self.contamination_report, self._event_windows, codes = apply_contamination(
            pairs, sessions, self.event_window, self.contamination, by_asset)
        # the assets with pairs left, in order of first appearance
        studied = list(sessions) if not len(merged) else pairs["asset"].unique().tolist()
        exclusions = self.estimation_exclusions
        dupes = repeated_pairs(codes)
        if dupes.any():
            first = pairs[dupes].iloc[0]
            raise ImpactError(f"event {first['event_id']} is given twice for asset {first['asset']}")
        bench = {a: self._benchmark_of(a) for a in studied} if isinstance(self.market, Mapping) \
            else dict.fromkeys(studied, self.market)
        needs_bench = {a for a in bench if self.model_of(a) in NEEDS_BENCHMARK}
        if needs_bench:
            missing = [a for a in needs_bench if bench[a] is None]
            if missing:
                raise ImpactError(f"model '{self.model_of(missing[0])}' needs a benchmark; none given for "
                                  f"{', '.join(missing)}")
            self.panel.require([str(bench[a]) for a in needs_bench], "benchmark")

        ea, eb = self.estimation_window
        wa, wb = self.event_window
        # Padding wide enough that no gathered window reaches a neighbour's rows; the prefix-sum
        # engine clips estimation windows itself, so only event windows need it there.
        by_moments = (self.engine == "moments" or (self.engine == "auto" and len(pairs) >= self.moments_from)) \
            and self.model != "garch" and client is None
        gathers_estimation = not by_moments
        pad = max(-ea if gathers_estimation else -wa, wb, 0) + 1
        # One long array of every asset's returns, NaN-padded between assets; pairs index into it.
        offsets, parts, names = {}, [], None
        start = pad
        # Design-matrix width: the factors of a factor model, else one column (the benchmark).
        width = (len([c for c in self.factors.columns if c != RF])
                 if self.factors is not None and any(m in FACTOR_MODELS for m in self.asset_models.values()) else 1)
        dates_of: dict = {}  # one datetime64 array per index object (assets of one frame share it; sessions holds them)
        x_ids: dict = {}
        x_group: list = []
        for asset in studied:
            y, x, ret, nm = design(self.panel, asset, bench[asset], self.model_of(asset), self.factors, width,
                                   self._design_cache)
            names = names or nm  # None for constant_mean/raw assets: the regression assets name them
            offsets[asset] = start
            index = sessions[asset]
            if id(index) not in dates_of:
                dates_of[id(index)] = index.to_numpy()
            parts.append((y, x, ret, dates_of[id(index)]))
            x_group.append(x_ids.setdefault(id(x), len(x_ids)))  # one X object: the same regressor rows
            start += len(y) + pad
        names = names or ["none"]
        k = parts[0][1].shape[1] if parts else 1
        n_rows = max(start, eb - ea + 1, wb - wa + 1)  # the window views need at least one full window
        uses_factors = any(self.model_of(a) in FACTOR_MODELS for a in offsets)
        data_rows = np.array([len(part[0]) for part in parts], dtype=np.int64)
        Y, X, R, D = stack_rows(parts, list(offsets.values()), n_rows, k, uses_factors)
        del parts, dates_of, x_ids

        reasons = empty_texts(len(pairs))
        given_flags = pairs["flags"].astype(str).to_numpy(dtype=object)
        flags = given_flags.copy()
        pos, lo, hi, unplaced, moved = place_day0(pairs, D, offsets, sessions, bench, needs_bench, reasons, flags,
                                                  codes[:2])
        masked, masked_reason, noted, spans_gap = row_masks(exclusions, offsets, n_rows, sessions,
                                                            getattr(self, "_event_windows", None))
        rows = StackedRows(Y, X, R if R is not Y else None, D, masked, masked_reason, noted, spans_gap, (ea, eb), (wa, wb),
                           self.model, tuple(names), self.min_estimation_obs)
        sel = np.flatnonzero(~unplaced)
        # the placed pairs' rows (all of them, the rule: the arrays themselves, no gathered copies)
        every = len(sel) == len(reasons)
        pos_s, lo_s, flags_s = (pos, lo, flags) if every else (pos[sel], lo[sel], flags[sel])
        # Assets of one regressor object read their regressors from the first one's rows: the same
        # values, from a few thousand rows in cache instead of rows spread over every asset's.
        x_from = regressor_sources(offsets, x_group)
        x_shift = np.array([x_from.get(str(a), 0) - offsets.get(str(a), 0) for a in codes[1]], dtype=np.int64)
        x_pos_s = pos_s + (x_shift[codes[0]] if every else x_shift[codes[0]][sel])
        models = self._pair_models(pairs, sel)  # the asset column read only when models mix
        if client is not None:  # whole day-0 dates per partition, fitted on the workers
            done = fit_distributed(client, rows, sel, pos_s, models, flags_s, D[pos_s], self.chunk_size,
                                   self.partition_size)
        else:
            # engine "moments": every pair's estimation-window sums from per-asset prefix sums, O(rows + pairs)
            moments = fit_by_moments(Y, X, masked if rows.any_masked else None, offsets, n_rows, pos_s, lo_s, ea, eb, names,
                                     models, self.min_estimation_obs, shared=(data_rows, np.array(x_group))) \
                if by_moments else None
            # The prefix-sum fit gathers event windows only: chunks as many times longer as L is to W.
            chunk = self.chunk_size if moments is None else self.chunk_size * max((eb - ea + 1) // (wb - wa + 1), 1)
            done = fit_pairs(rows, sel, pos_s, models, flags_s, chunk, moments,
                             lambda parts: progress(parts, desc="pairs", total=-(-len(sel) // chunk), unit="chunk"),
                             x_pos_s)
        if every and np.array_equal(done.index, sel):  # every pair fitted, in order: the fit's notes
            reasons, flags, bad = done.reasons, done.flags, ~done.kept_mask
        else:
            reasons[done.index], flags[done.index] = done.reasons, done.flags
            bad = reasons != ""
        kept = np.flatnonzero(~bad)
        fit = done.fit if done.fit is not None else fit_normal_returns(
            self.model if self.model not in ("garch", "mixed") else "market", np.zeros((0, 1)), np.zeros((0, 1, k)),
            np.zeros((0, 1), dtype=bool), 1, tuple(names or ()))
        pos_k, lo_k, hi_k = (pos, lo, hi) if len(kept) == len(pos) else (pos[kept], lo[kept], hi[kept])
        # Flags are noted on moved days 0 and on flagged rows in event windows: else none changed.
        may_differ = moved.any() or rows.any_masked or rows.any_gap
        if may_differ and (flags != given_flags).any():  # else the column stays as it is (no text column made again)
            pairs["flags"] = flags
        excluded = pairs.loc[bad, ["event_id", "asset"]].assign(reason=reasons[bad]).reset_index(drop=True)
        return with_merged(merged, EventStudyResult(
            study=self,
            pairs=pairs.copy(deep=False) if len(kept) == len(pairs) else pairs.loc[kept].reset_index(drop=True),
            fit=fit,
            # raw returns, event and estimation dates: read from the rows on first use (study/windows.py rows_field)
            abnormal=done.ar, raw=None, benchmark=done.xev, dates=None,  # type: ignore[arg-type]
            estimation_dates=None,  # type: ignore[arg-type]
            estimation_masked=done.n_masked,
            excluded=excluded,
            alignment=pairs.assign(excluded_reason=reasons if bad.any() else repeated_text("", len(pairs))),
            rows=RowSource(Y, X, D, masked, pos_k, lo_k, hi_k, R if R is not Y else None,
                           (np.fromiter(offsets.values(), dtype=np.int64),
                            np.fromiter(x_from.values(), dtype=np.int64))),
        ))
