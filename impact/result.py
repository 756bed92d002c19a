"""The result of a fitted event study: tidy tables, tests and plots.

:class:`EventStudyResult` holds the per-pair arrays the engine produced (abnormal
and raw returns, regressors, the normal-return fit) and serves them as tidy
DataFrames (``ar``, ``car``, ``params``, ``excluded``, ``alignment``), cross-sections
(``aar``, ``caar``, ``caar_path``, ``bhar``), the test battery (``test``, ``tests``),
the joint MVRM test and notebook views (``summary``, ``_repr_html_``, plots).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import ImpactError
from .events import Catalog
from .models import NormalFit
from .statistics import cross_sectional_t, run_test, significance_stars, t_pvalue
from .windows import RowSource, Window, check_window

if TYPE_CHECKING:
    from .study import EventStudy


@dataclass
class EventStudyResult:
    """Abnormal returns and tests of a fitted :class:`EventStudy`.

    Tidy tables: :attr:`ar`, :attr:`params`, :attr:`excluded`, :attr:`alignment`;
    methods :meth:`car`, :meth:`aar`, :meth:`caar`, :meth:`summary`.
    """

    study: EventStudy
    pairs: pd.DataFrame
    fit: NormalFit
    abnormal: np.ndarray       # (P, W)
    raw: np.ndarray            # (P, W) returns
    benchmark: np.ndarray      # (P, W, k)
    dates: np.ndarray          # (P, W)
    estimation_dates: tuple
    estimation_masked: np.ndarray  # (P,) estimation rows left out by estimation_exclusions
    excluded: pd.DataFrame
    alignment: pd.DataFrame
    rows: RowSource | None = field(default=None, repr=False)  # estimation rows for the test battery
    _cache: dict = field(default_factory=dict, repr=False)

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
        car = self.abnormal[:, mask].sum(axis=1)
        se = np.sqrt(self.fit.car_variance(self.benchmark, mask))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = car / se
        return pd.DataFrame({
            "event_id": self.pairs["event_id"], "asset": self.pairs["asset"],
            "window": f"[{window[0]},{window[1]}]", "car": car, "se": se, "t": t,
            "p_value": t_pvalue(t, self.fit.df), "df": self.fit.df,
        })

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
        Columns ``event_id, asset, window, bhar, bhr, normal_bhr``. No per-pair
        standard error: BHARs are skewed and are tested across pairs
        (:meth:`caar`-style cross-sections or the test battery).
        """
        window = window or self.study.event_window
        mask = self._window_mask(window)
        ret = self.raw[:, mask]
        normal = ret - self.abnormal[:, mask]
        if self.study.returns_kind == "simple":
            bhr, nbhr = np.prod(1 + ret, axis=1) - 1, np.prod(1 + normal, axis=1) - 1
        else:  # log returns compound by summing
            bhr, nbhr = np.expm1(ret.sum(axis=1)), np.expm1(normal.sum(axis=1))
        return pd.DataFrame({
            "event_id": self.pairs["event_id"], "asset": self.pairs["asset"],
            "window": f"[{window[0]},{window[1]}]", "bhar": bhr - nbhr, "bhr": bhr, "normal_bhr": nbhr,
        })

    def mvrm(self, window: Window | None = None, **options) -> pd.DataFrame:
        """Joint tests for same-date events by the multivariate regression model
        (Binder 1985; Schipper & Thompson 1983), one row per (event, hypothesis):
        the event effect over ``window`` is zero for every asset, and equal across
        assets. See :func:`impact.mvrm.mvrm` for the model and the ``options``."""
        from .mvrm import mvrm

        return mvrm(self, window, **options).tests

    def test(self, name: str, window: Window | None = None, **options) -> pd.DataFrame:
        """Run test ``name`` of the battery (see :data:`impact.statistics.TESTS` and
        docs/methods.md): one row per rel_day of the event window (``window=None``)
        or one row for the CAR over ``window``; columns ``statistic, p_value, n``.
        Peer conventions (sigma denominator, prediction-error correction, ...) are
        keyword ``options``."""
        return run_test(self, name, window, **options)

    @property
    def tests(self) -> pd.DataFrame:
        """The test battery as one tidy table: ``test, window, statistic, p_value, n, stars``
        for every test but the placebo over [0,0], [-1,1] and the event window
        (:func:`impact.report.battery_table` takes other names and windows)."""
        if "tests" not in self._cache:
            from .report import battery_table

            self._cache["tests"] = battery_table(self)
        return self._cache["tests"].copy()

    def aar(self) -> pd.DataFrame:
        """Average AR per event day across pairs, cross-sectional t, and CAAR."""
        ar = self.ar
        rows = ar.groupby("rel_day")["ar"].apply(cross_sectional_t).unstack()
        rows = rows.rename(columns={"mean": "aar"})
        rows["caar"] = rows["aar"].cumsum()
        rows["n"] = rows["n"].astype(int)
        return rows.reset_index()

    def caar_path(self, by: str | None = None, level: float = 0.95) -> pd.DataFrame:
        """CAAR from the event-window start to each day, with a cross-sectional
        confidence band: mean of per-pair cumulative ARs +/- t_{n-1} * sd / sqrt(n)."""
        from scipy import stats

        cum = np.cumsum(self.abnormal, axis=1)
        groups = {"all": np.arange(len(self.pairs))}
        if by is not None:
            labels = self._with_attributes(self.pairs[["event_id", "asset"]].copy(), [by])[by].to_numpy()
            groups = {g: np.flatnonzero(labels == g) for g in pd.unique(labels)}
        rows = []
        for g, idx in groups.items():
            block = cum[idx]
            n = len(idx)
            mean = block.mean(axis=0) if n else np.full(len(self.rel_days), np.nan)
            se = block.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(len(self.rel_days), np.nan)
            crit = stats.t.ppf(0.5 + level / 2, n - 1) if n > 1 else np.nan
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
        from .assets import registry

        missing = [k for k in keys if k not in frame.columns]
        if not missing:
            return frame
        events = self.study.events.events if isinstance(self.study.events, Catalog) else self.study.events
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
        """A plain-text summary: settings, counts, CAAR test and the largest CARs."""
        s = self.study
        caar = self.caar(window).iloc[0]
        cars = self.car(window).sort_values("car")
        lines = [
            "Event study",
            "=" * 72,
            f"model: {s.model}    returns: {s.returns_kind}    benchmark: {s.market}",
            f"estimation window: {s.estimation_window}    event window: {s.event_window}",
            f"pairs estimated: {len(self.pairs)}    excluded: {len(self.excluded)}",
            f"CAAR{list(window)}: {caar['caar']:+.4%}  t = {caar['t']:.2f}  p = {caar['p_value']:.4f}  (n = {caar['n']})",
            "",
            f"Largest CARs {list(window)}:",
        ]
        show = pd.concat([cars.head(5), cars.tail(5)]).drop_duplicates(["event_id", "asset"])
        for r in show.itertuples():
            lines.append(f"  {r.event_id:<14} {r.asset:<10} {r.car:+.4%}  t = {r.t:6.2f} {significance_stars(r.p_value)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"EventStudyResult(model={self.study.model!r}, pairs={len(self.pairs)}, "
                f"excluded={len(self.excluded)}, event_window={self.study.event_window})")

    def _repr_html_(self) -> str:
        from .report import result_html

        return result_html(self)

    def plot_caar(self, by: str | None = None, level: float = 0.95, title: str | None = None):
        """CAAR path over the event window with its confidence band (one line per group
        of ``by``); returns the matplotlib Figure (see :func:`impact.figures.caar_path_figure`)."""
        from .figures import caar_path_figure

        title = title or ("Cumulative average abnormal return" if by is None else f"CAAR by {by}")
        return caar_path_figure(self.caar_path(by=by, level=level), title, level)

    def plot_heatmap(self, window: Window = (0, 0), title: str | None = None):
        """Assets x events heatmap of CARs over ``window`` (day-0 ARs by default), colours
        centred at zero; returns the matplotlib Figure."""
        from .figures import heatmap_figure
        from .report import event_labels, heatmap_matrix

        window = check_window(window, "window")
        label = "Day-0 abnormal returns" if window == (0, 0) else f"CARs over [{window[0]}, {window[1]}]"
        matrix = heatmap_matrix(self, window)
        return heatmap_figure(matrix, title or f"{label} by asset and event", event_labels(self, matrix.columns))
