"""The result of a fitted event study: tidy tables, tests and plots.

:class:`EventStudyResult` holds the per-pair arrays the engine produced (abnormal
and raw returns, regressors, the normal-return fit) and serves them as tidy
DataFrames (``ar``, ``car``, ``params``, ``excluded``, ``alignment``), cross-sections
(``aar``, ``caar``, ``caar_path``, ``bhar``), the test battery (``test``, ``tests``),
the joint MVRM test and notebook views (``summary``, ``_repr_html_``, plots).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from ..errors import ImpactError
from ..events.assets import registry
from ..events.catalog import Catalog
from ..textruns import join_runs, repeated_text
from .card import result_html, summary_text
from .extensions import extend
from .extensions import extension as _extension
from .hypotheses import pair_hypotheses, sign_reason
from .models import NormalFit
from .statistics import cross_sectional_t, t_pvalue
from .verbs import ResearchVerbs
from .windows import ROWS_FIELDS, RowSource, Window, check_window, rows_field, taken_rows_fields

__all__ = ["EventStudyResult", "extend"]  # extend: see impact.study.extensions


def _plots():
    """:mod:`impact.study.plots`, deferred for start-up time (docs/architecture.md): matplotlib
    loads with the first figure, not with the result."""
    return importlib.import_module(".plots", __package__)

if TYPE_CHECKING:
    from .eventstudy import EventStudy


@dataclass
class EventStudyResult(ResearchVerbs):
    """Abnormal returns and tests of a fitted :class:`EventStudy`.

    Tidy tables: :attr:`ar`, :attr:`params`, :attr:`excluded`, :attr:`alignment`;
    methods :meth:`car`, :meth:`aar`, :meth:`caar`, :meth:`summary`.
    """

    study: EventStudy
    pairs: pd.DataFrame
    fit: NormalFit
    abnormal: np.ndarray       # (P, W)
    raw: np.ndarray            # (P, W) returns (None when built: read from ``rows`` on first use)
    benchmark: np.ndarray      # (P, W, k)
    dates: np.ndarray          # (P, W) (None when built: read from ``rows`` on first use)
    estimation_dates: tuple    # first and last date of each estimation window (None when built: read from ``rows``)
    estimation_masked: np.ndarray  # (P,) estimation rows left out by estimation_exclusions
    excluded: pd.DataFrame
    alignment: pd.DataFrame
    rows: RowSource | None = field(default=None, repr=False)  # estimation rows for the test battery
    event_table: pd.DataFrame | None = field(default=None, repr=False)  # events of bundled results
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def events_frame(self) -> pd.DataFrame:
        """The events behind ``event_id`` (for a :meth:`by_bundle` result, one row per bundle)."""
        if self.event_table is not None:
            return self.event_table
        events = self.study.events
        frame = events.events if isinstance(events, Catalog) else events
        return frame.assign(event_id=frame["event_id"].astype(str))

    def take(self, index) -> EventStudyResult:
        """The result for a subset of pairs (integer positions), with fresh caches."""
        index = np.asarray(index, dtype=np.int64)
        rows = self.rows
        if rows is not None:
            rows = replace(rows, pos=rows.pos[index], lo=rows.lo[index], hi=rows.hi[index])
        return replace(
            self, pairs=self.pairs.iloc[index].reset_index(drop=True), fit=self.fit.take(index),
            abnormal=self.abnormal[index], benchmark=self.benchmark[index],
            estimation_masked=self.estimation_masked[index], rows=rows, _cache={}, **taken_rows_fields(self, index))

    @property
    def day0(self) -> np.ndarray:
        """(P,) the day-0 session of every pair."""
        return self.dates[:, int(np.flatnonzero(self.rel_days == 0)[0])]

    #: Event attributes a bundle carries: the members' common value, else "mixed".
    BUNDLE_ATTRIBUTES = ("direction", "kind", "actor")

    def _bundle_table(self) -> pd.DataFrame:
        """One row per (asset, day-0 session) in one grouped pass; ``first_pair`` is the
        row of its first member, ``hypothesis`` the members' common one (0 if they differ)."""
        if "bundles" not in self._cache:
            events = self.events_frame.drop_duplicates("event_id").reset_index(drop=True)
            attrs = [c for c in self.BUNDLE_ATTRIBUTES if c in events.columns]
            pairs = pd.concat([self.hypotheses, pd.DataFrame({"pair": np.arange(len(self.pairs)),
                                                              "day0": pd.to_datetime(self.day0)})], axis=1)
            pairs = pairs.astype({"event_id": str}).merge(events[["event_id", *attrs]], on="event_id", how="left")
            pairs["order"] = pairs["event_id"].map(pd.Series(np.arange(len(events)), index=events["event_id"]))
            pairs = pairs.sort_values(["asset", "day0", "order"], kind="stable", na_position="last")
            groups = pairs.groupby(["asset", "day0"], sort=False)
            table = groups.agg(n_events=("event_id", "size"), first_pair=("pair", "first"),
                               escalation_sign=("escalation_sign", "first")).reset_index()
            # Sorted, each session's members are one run: ids joined once, sliced per run.
            number = groups.ngroup().to_numpy()
            ids = pairs["event_id"].to_numpy(dtype=object)[~np.isnan(number)]
            table.insert(2, "bundle", join_runs(ids, table["n_events"].to_numpy(), "+"))
            table.insert(3, "events", join_runs(ids, table["n_events"].to_numpy(), ", "))

            def common(column, mixed):
                n = groups[column].nunique().to_numpy()
                return np.where(n == 1, groups[column].first().to_numpy(), mixed if column != "hypothesis" else 0)

            for column in self.BUNDLE_ATTRIBUTES:
                table[column] = common(column, "mixed").astype(object) if column in attrs else ""
                if column in attrs:
                    table.loc[groups[column].count().to_numpy() == 0, column] = ""
            table["hypothesis"] = common("hypothesis", 0).astype(int)
            self._cache["bundles"] = table
        return self._cache["bundles"]

    @property
    def bundles(self) -> pd.DataFrame:
        """Announcements priced in the same session of an asset: one row per (asset, day-0
        session), ``bundle`` (ids joined by ``+`` in catalog order), ``events``, ``n_events``
        and the members' common ``direction``, ``kind`` and ``actor`` (``mixed`` when they
        disagree). Such pairs share every abnormal return, so one session's move is one
        finding: :meth:`by_bundle` keeps each once."""
        return self._bundle_table()[["bundle", "asset", "day0", "events", "n_events", *self.BUNDLE_ATTRIBUTES]]

    def by_bundle(self) -> EventStudyResult:
        """The result with each (asset, day-0 session) once: ``event_id`` is the bundle id
        (``USCN-2025-23+USCN-2025-24``), the events frame has one row per bundle (first
        member's date and time, titles joined, direction/kind/actor ``mixed`` when the
        members disagree) and each pair's hypothesis is the members' common one (0 when
        they disagree). Tables, tests and placebo runs on it never count a move twice."""
        table = self._bundle_table()
        out = self.take(table["first_pair"].to_numpy())
        out.pairs = out.pairs.assign(event_id=table["bundle"].to_numpy(), members=table["events"].to_numpy(),
                                     hypothesis=table["hypothesis"].to_numpy(),
                                     escalation_sign=table["escalation_sign"].to_numpy())
        events = self.events_frame.drop_duplicates("event_id")
        unique = table.drop_duplicates("bundle")[["bundle", "events", "n_events", *self.BUNDLE_ATTRIBUTES]]
        members = unique.assign(event_id=unique["events"].str.split(", ")).explode("event_id")
        titles = members["event_id"].map(events.set_index("event_id")["title"]) if "title" in events.columns else None
        first = unique.assign(event_id=unique["events"].str.split(", ").str[0])
        rest = [c for c in events.columns if c not in (*self.BUNDLE_ATTRIBUTES, "event_id")]
        bundled = first.merge(events[["event_id", *rest]], on="event_id", how="left")
        if titles is not None:
            bundled["title"] = titles.astype(str).groupby(members["bundle"].to_numpy(), sort=False).agg(
                " + ".join).reindex(bundled["bundle"]).to_numpy()
        out.event_table = bundled.drop(columns="event_id").rename(
            columns={"bundle": "event_id", "events": "members"})
        return out

    @property
    def hypotheses(self) -> pd.DataFrame:
        """Per pair: ``event_id, asset, escalation_sign`` (the asset's expected sign on an
        escalation of the event's kind) and ``hypothesis`` (+1/-1 for escalations and
        de-escalations, 0 for other directions and mixed bundles), with the registry's
        ``reason`` for the sign; :mod:`impact.hypotheses`."""
        if {"hypothesis", "escalation_sign"} <= set(self.pairs.columns):
            signs = self.pairs[["escalation_sign", "hypothesis"]].reset_index(drop=True)
        else:
            attrs = self._with_attributes(self.pairs[["event_id", "asset"]].astype({"event_id": str}),
                                          [c for c in ("kind", "direction") if c in self.events_frame.columns])
            signs = pair_hypotheses(attrs.reset_index(drop=True), getattr(self.study, "hypotheses", None))
        out = pd.concat([self.pairs[["event_id", "asset"]].reset_index(drop=True), signs], axis=1)
        return out.assign(reason=out["asset"].map({a: sign_reason(a) for a in out["asset"].unique()}))

    @property
    def risk_signs(self) -> np.ndarray:
        """(P,) the factor that makes each pair read as a risk asset: -escalation_sign (the VIX,
        gold, USD/CNY, ... flipped), 0 for pairs without a hypothesis (mixed bundles, neutral
        news). Sign-aligned CARs, CAAR paths, bootstraps and placebo weights all use it."""
        signs = self.hypotheses
        return np.where(signs["hypothesis"].to_numpy() != 0, -signs["escalation_sign"].to_numpy(dtype=float), 0.0)

    def caar_aligned(self, window: Window | None = None, by: str | None = "direction") -> pd.DataFrame:
        """Sign-aligned CAAR: CARs of assets expected to *rise* on an escalation (the VIX,
        gold, USD/CNY, ...) are flipped, so every pair reads as a risk asset and a pooled
        mean is not cancelled by opposite reactions. Only pairs with a hypothesis enter
        (escalations and de-escalations; mixed bundles and neutral news are left out:
        ``n_left_out``). Columns: ``caar_aligned`` with its cross-sectional t and p
        (Brown & Warner 1985), ``n``, ``n_hypothesised`` and ``share_hypothesised`` (pairs
        whose CAR has the hypothesised sign), ``hypothesis`` (the risk-asset sign expected:
        ``-`` for escalations)."""
        cars = self.car(window)
        signs = self.hypotheses
        cars = cars.assign(escalation_sign=signs["escalation_sign"].to_numpy(), hypothesis=signs["hypothesis"].to_numpy())
        cars["car_aligned"] = -cars["escalation_sign"] * cars["car"]
        keys = [by] if by else []
        cars = self._with_attributes(cars, keys) if keys else cars
        has = cars["hypothesis"] != 0
        rows = []
        groups = cars.groupby(keys, sort=False) if keys else [((None,), cars)]
        for key, block in groups:
            use = block[block["hypothesis"] != 0]
            test = cross_sectional_t(use["car_aligned"])
            hit = int((np.sign(use["car"]) == use["hypothesis"]).sum())
            expected = ("-" if (use["hypothesis"] * use["escalation_sign"] > 0).all() else
                        "+" if (use["hypothesis"] * use["escalation_sign"] < 0).all() else "±") if len(use) else ""
            row = {"window": cars["window"].iloc[0] if len(cars) else "", "caar_aligned": test["mean"],
                   "t": test["t"], "p_value": test["p_value"], "n": len(use), "n_hypothesised": hit,
                   "share_hypothesised": hit / len(use) if len(use) else np.nan, "hypothesis": expected,
                   "n_left_out": int((~has[block.index]).sum())}
            if keys:
                row = {str(by): key[0] if isinstance(key, tuple) else key, **row}
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def contamination(self) -> pd.DataFrame:
        """Overlapping event windows per asset and the decision taken (:mod:`impact.contamination`)."""
        return getattr(self.study, "contamination_report", pd.DataFrame())

    @property
    def rel_days(self) -> np.ndarray:
        a, b = self.study.event_window
        return np.arange(a, b + 1)

    @property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns: ``event_id, asset, rel_day, date, ar, ret`` (``ret``: the raw return)."""
        if "ar" not in self._cache:
            P, W = self.abnormal.shape
            self._cache["ar"] = pd.DataFrame({
                "event_id": np.repeat(self.pairs["event_id"].to_numpy(), W),
                "asset": np.repeat(self.pairs["asset"].to_numpy(), W),
                "rel_day": np.tile(self.rel_days, P),
                "date": pd.to_datetime(self.dates.reshape(-1)),
                "ar": self.abnormal.reshape(-1),
                "ret": self.raw.reshape(-1),
            })
        return self._cache["ar"].copy()

    @property
    def params(self) -> pd.DataFrame:
        """Normal-return parameters per pair: ``event_id, asset, model, alpha, beta, sigma, n_obs``."""
        f = self.fit
        models = f.models
        beta = f.beta[:, 0].copy() if f.beta.shape[1] else np.full(len(f.alpha), np.nan)
        beta[np.isin(models, ("constant_mean", "raw"))] = np.nan  # no slope is estimated
        return pd.DataFrame({
            "event_id": self.pairs["event_id"], "asset": self.pairs["asset"], "model": models,
            "alpha": f.alpha, "beta": beta, "sigma": np.sqrt(f.sigma2), "n_obs": f.n_obs, "df": f.df,
            "estimation_start": pd.to_datetime(self.estimation_dates[0]),
            "estimation_end": pd.to_datetime(self.estimation_dates[1]),
            "n_masked": self.estimation_masked,
            # Multi-factor models: one loading per factor (``beta`` is the first, the market).
            **({f"beta_{name}": f.beta[:, j] for j, name in enumerate(f.names)}
               if self.study.model in ("ff3", "factors") else {}),
        })

    def _window_mask(self, window: Window) -> np.ndarray:
        a, b = check_window(window, "window")
        ea, eb = self.study.event_window
        if a < ea or b > eb:
            raise ImpactError(f"window {(a, b)} lies outside the event window {(ea, eb)}")
        return (self.rel_days >= a) & (self.rel_days <= b)

    def car(self, window: Window | None = None) -> pd.DataFrame:
        """CAR over ``window`` for each pair with its standard error, t and p-value.

        se includes the estimation error of the normal-return parameters
        (Campbell, Lo & MacKinlay 1997, eq. 4.4.14); t ~ Student t with the
        estimation's residual degrees of freedom.
        """
        window = window or self.study.event_window
        mask = self._window_mask(window)
        key = ("car", f"[{window[0]},{window[1]}]")
        if key not in self._cache:  # caar, the battery and reports ask for the same CARs again
            days = np.flatnonzero(mask)  # one run of days: a view, not a copy of every pair's ARs
            car = self.abnormal[:, days[0]:days[-1] + 1].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = car / (se := np.sqrt(self.fit.car_variance(self.benchmark, mask)))
            self._cache[key] = pd.DataFrame({  # copy=False: the frame's own arrays (df copied), not copied again
                "event_id": self.pairs["event_id"], "asset": self.pairs["asset"],
                "window": repeated_text(f"[{window[0]},{window[1]}]", len(car)), "car": car, "se": se, "t": t,
                "p_value": t_pvalue(t, self.fit.df), "df": self.fit.df.copy()}, copy=False)
        return self._cache[key].copy(deep=False)  # a new frame: the caller's changes stay its own

    def bhar(self, window: Window | None = None) -> pd.DataFrame:
        """Buy-and-hold abnormal return over ``window`` for each pair.

        BHAR = prod_{t in window}(1 + R_t) - prod_{t in window}(1 + E_t) on simple
        returns (Barber & Lyon 1997; Lyon, Barber & Tsai 1999), with R_t the asset's
        return and E_t = R_t - AR_t its normal return under the study's model (for
        ``ff3``/``factors`` with ``rf``, E_t includes rf; for ``raw``, E_t = 0 and BHAR
        is the buy-and-hold return; for ``market_adjusted`` it is the return in excess
        of buying and holding the benchmark). With ``returns="log"`` (also the
        assumption for :meth:`EventStudy.from_returns` unless ``returns="simple"``)
        both legs are converted first: 1 + R = exp(r), 1 + E = exp(r - ar).
        Columns ``event_id, asset, window, bhar, bhr, normal_bhr, se, t, p_value``: se is the
        first-order (delta-method) standard error under the null, (1 + normal_bhr) sqrt(Var(CAR))
        with Var(CAR) of :meth:`car` (estimation error included), t ~ t(df). BHARs are skewed:
        across pairs use :meth:`bhar_tests` (Lyon, Barber & Tsai 1999).
        """
        window = window or self.study.event_window
        mask = self._window_mask(window)
        ret = self.raw[:, mask]
        normal = ret - self.abnormal[:, mask]
        if self.study.returns_kind == "simple":
            bhr, nbhr = np.prod(1 + ret, axis=1) - 1, np.prod(1 + normal, axis=1) - 1
        else:  # log returns compound by summing
            bhr, nbhr = np.expm1(ret.sum(axis=1)), np.expm1(normal.sum(axis=1))
        se = (1 + nbhr) * np.sqrt(self.fit.car_variance(self.benchmark, mask))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (bhr - nbhr) / se
        return pd.DataFrame({
            "event_id": self.pairs["event_id"], "asset": self.pairs["asset"],
            "window": repeated_text(f"[{window[0]},{window[1]}]", len(bhr)), "bhar": bhr - nbhr, "bhr": bhr, "normal_bhr": nbhr,
            "se": se, "t": t, "p_value": t_pvalue(t, self.fit.df),
        })

    def mvrm(self, window: Window | None = None, **options) -> pd.DataFrame:
        """Joint tests for same-date events by the multivariate regression model
        (Binder 1985; Schipper & Thompson 1983), one row per (event, hypothesis):
        the event effect over ``window`` is zero for every asset, and equal across
        assets. See :func:`impact.inference.mvrm.mvrm` for the model and the ``options``."""
        return _extension("mvrm")(self, window, **options).tests

    def test(self, name: str, window: Window | None = None, **options) -> pd.DataFrame:
        """Run test ``name`` of the battery (see :data:`impact.inference.battery.TESTS` and
        docs/methods.md): one row per rel_day of the event window (``window=None``)
        or one row for the CAR over ``window``; columns ``statistic, p_value, n``.
        Peer conventions (sigma denominator, prediction-error correction, ...) are
        keyword ``options``."""
        return _extension("test")(self, name, window, **options)

    @property
    def tests(self) -> pd.DataFrame:
        """The test battery as one tidy table: ``test, window, statistic, p_value, n, stars``
        for every test but the placebo over [0,0], [-1,1] and the event window
        (:func:`impact.inference.battery.battery_table` takes other names and windows)."""
        if "tests" not in self._cache:
            self._cache["tests"] = _extension("tests")(self)
        return self._cache["tests"].copy()

    def aar(self) -> pd.DataFrame:
        """Average AR per event day across pairs, cross-sectional t, and CAAR."""
        ar = self.ar
        rows = ar.groupby("rel_day")["ar"].apply(cross_sectional_t).unstack()
        rows = rows.rename(columns={"mean": "aar"})
        rows["caar"] = rows["aar"].cumsum()
        rows["n"] = rows["n"].astype(int)
        return rows.reset_index()

    def caar_path(self, by: str | None = None, level: float = 0.95, aligned: bool = False) -> pd.DataFrame:
        """CAAR from the event-window start to each day, with a cross-sectional
        confidence band: mean of per-pair cumulative ARs +/- t_{n-1} * sd / sqrt(n).
        ``aligned=True``: sign-aligned ARs as in :meth:`caar_aligned` (assets expected to
        rise on an escalation flipped; pairs without a hypothesis left out)."""
        ar = self.abnormal
        keep = np.ones(len(self.pairs), dtype=bool)
        if aligned:
            flip = self.risk_signs
            keep = flip != 0
            ar = ar * flip[:, None]
        cum = np.cumsum(ar, axis=1)
        groups = {"all": np.flatnonzero(keep)}
        if by is not None:
            labels = self._with_attributes(self.pairs[["event_id", "asset"]].copy(), [by])[by].to_numpy()
            groups = {g: np.flatnonzero((labels == g) & keep) for g in pd.unique(labels[keep])}
        rows = []
        for g, idx in groups.items():
            block = cum[idx]
            n = len(idx)
            mean = block.mean(axis=0) if n else np.full(len(self.rel_days), np.nan)
            se = block.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(len(self.rel_days), np.nan)
            crit = special.stdtrit(n - 1, 0.5 + level / 2) if n > 1 else np.nan  # Student's t quantile
            for k, day in enumerate(self.rel_days):
                rows.append((g, day, mean[k], se[k], mean[k] - crit * se[k], mean[k] + crit * se[k], n))
        out = pd.DataFrame(rows, columns=["group", "rel_day", "caar", "se", "lower", "upper", "n"])
        return out if by is not None else out.drop(columns="group")

    def caar(self, window: Window | None = None, by: str | list[str] | None = None) -> pd.DataFrame:
        """Mean CAR over ``window`` (optionally by a pair attribute such as ``asset`` or a
        catalog field), with the cross-sectional t-test of Brown & Warner (1985)."""
        cars = self.car(window)
        if by is None:
            out = cross_sectional_t(cars["car"]).to_frame().T
            out.insert(0, "window", cars["window"].iloc[0] if len(cars) else "")
            return out.rename(columns={"mean": "caar"}).assign(n=lambda d: d["n"].astype(int))
        keys = [by] if isinstance(by, str) else list(by)
        cars = self._with_attributes(cars, keys)
        out = cars.groupby(keys)["car"].apply(cross_sectional_t).unstack().reset_index()
        out.insert(len(keys), "window", cars["window"].iloc[0] if len(cars) else "")
        return out.rename(columns={"mean": "caar"}).assign(n=lambda d: d["n"].astype(int))

    def _with_attributes(self, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        missing = [k for k in keys if k not in frame.columns]
        if not missing:
            return frame
        events = self.events_frame
        if "asset_class" in missing:
            classes = registry()["asset_class"]
            frame = frame.assign(asset_class=frame["asset"].map(classes).fillna("unknown"))
            missing.remove("asset_class")
        cols = [k for k in missing if k in events.columns]
        if len(cols) < len(missing):
            unknown = sorted(set(missing) - set(cols))
            raise ImpactError(f"cannot group by {', '.join(unknown)}: not a pair or event attribute")
        attrs = events[["event_id", *cols]].drop_duplicates("event_id")
        attrs = attrs.assign(event_id=attrs["event_id"].astype(str))
        return frame.merge(attrs, on="event_id", how="left")

    def summary(self, window: Window = (-1, 1)) -> str:
        """A plain-text summary: settings, counts, the CAAR test, the sign-aligned CAAR by
        direction and the largest CARs (:func:`impact.study.card.summary_text`)."""
        return summary_text(self, window)

    def __repr__(self) -> str:
        return (f"EventStudyResult(model={self.study.model!r}, pairs={len(self.pairs)}, "
                f"excluded={len(self.excluded)}, event_window={self.study.event_window})")

    def _repr_html_(self) -> str:
        return result_html(self)

    def plot_caar(self, by: str | None = None, level: float = 0.95, title: str | None = None,
                  aligned: bool = False):
        """CAAR path over the event window with its confidence band (one line per group
        of ``by``; ``aligned=True``: sign-aligned as in :meth:`caar_aligned`); returns the
        matplotlib Figure (see :func:`impact.study.plots.caar_path_figure`)."""
        title = title or ("Cumulative average abnormal return" if by is None else f"CAAR by {by}")
        if aligned:
            title += ", sign-aligned"
        return _plots().caar_path_figure(self.caar_path(by=by, level=level, aligned=aligned), title, level)

    def plot_heatmap(self, window: Window = (0, 0), title: str | None = None):
        """Assets x events heatmap of CARs over ``window`` (day-0 ARs by default), colours
        centred at zero; returns the matplotlib Figure."""
        window = check_window(window, "window")
        label = "Day-0 abnormal returns" if window == (0, 0) else f"CARs over [{window[0]}, {window[1]}]"
        plots = _plots()
        matrix = plots.heatmap_matrix(self, window)
        return plots.result_heatmap(self, matrix, title or f"{label} by asset and event")


for _name in ROWS_FIELDS:  # raw, dates, estimation_dates: read from the rows on first use
    setattr(EventStudyResult, _name, rows_field(_name))
