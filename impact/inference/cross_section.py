"""Cross-sectional regressions of CARs on characteristics (``result.regress``).

``CAR_i = x_i' b + e_i`` over the pairs of a study, fitted with statsmodels' formula API
(OLS, or WLS with weights 1 / se_i^2 where se_i is the CAR's own standard error, the
usual efficiency weighting when pairs differ in volatility; Sefcik & Thompson 1986
discuss both). Pairs that share an event date share its shock, so the default
covariance clusters by day-0 session (Petersen 2009; Cameron & Miller 2015 for few
clusters), with p-values from t(G − 1). When every characteristic is constant within a
cluster (an event's ``kind`` is shared by all assets of its day) the clusters are the
observations: the regression is run on the cluster means with t(G − k) inference
(Donald & Lang 2007), since cluster-robust s.e. from a few clusters are far too small
(with 8 dates and 6 coefficients they gave t = 180). ``cov="HC1"``/``"HC3"`` give White's
heteroskedasticity-robust versions
(MacKinnon & White 1985) and ``"nonrobust"`` the textbook one.

Characteristics come by name from three places, merged on the pair: the catalog's
event columns (``kind``, ``actor``, ``direction``, ...), the asset registry
(``asset_class``, ``label``) and ``data`` — a frame keyed by ``asset`` (per asset),
``event_id`` (per event) or both (per pair).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from matplotlib.figure import Figure
from patsy import PatsyError  # type: ignore[import-untyped]

from ..errors import ImpactError
from ..events.assets import registry
from ..study.extensions import extend
from ..study.plots import coefficient_figure
from ..study.windows import Window

COVARIANCES = ("cluster", "HC1", "HC3", "nonrobust")
#: A regression on cluster means needs this many residual degrees of freedom to say anything.
MIN_RESIDUAL_DF = 3
CLUSTERS = ("day0", "event_id", "asset")


@dataclass
class CrossSectionResult:
    """A fitted cross-section: ``model`` (statsmodels results), the ``frame`` it was
    fitted on (one row per pair used; ``cov="between"`` when it was fitted on cluster means),
    :meth:`summary`, the tidy :attr:`table` and
    :meth:`plot` (coefficients with confidence intervals)."""

    model: Any  # statsmodels RegressionResultsWrapper
    frame: pd.DataFrame
    formula: str
    window: Window
    cov: str
    cluster: str | None
    weights: str | None

    def summary(self):
        """statsmodels' regression summary (coefficients, R², the covariance used)."""
        return self.model.summary()

    @property
    def table(self) -> pd.DataFrame:
        """One row per term: ``term, coef, se, t, p_value, ci_low, ci_high, n, clusters, cov``."""
        m = self.model
        ci = m.conf_int()
        clusters = int(self.frame[self.cluster].nunique()) if self.cluster else np.nan
        label = {"cluster": f"cluster({self.cluster})", "between": f"between {self.cluster} means (Donald & Lang 2007)"}
        return pd.DataFrame({
            "term": m.params.index, "coef": m.params.to_numpy(), "se": m.bse.to_numpy(),
            "t": m.tvalues.to_numpy(), "p_value": m.pvalues.to_numpy(),
            "ci_low": ci[0].to_numpy(), "ci_high": ci[1].to_numpy(), "n": int(m.nobs),
            "clusters": clusters, "cov": label.get(self.cov, self.cov),
        })

    def plot(self, title: str | None = None) -> Figure:
        return coefficient_figure(self.table, title or f"{self.formula}, CAR{list(self.window)}")

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return str(self.summary())


def regression_frame(result, window: Window = (-1, 1), data: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pairs' CARs with ``day0``, the expected sign (``hypothesis``: +1/-1, 0 for
    neutral news) and ``car_aligned`` = CAR x sign (so escalations and de-escalations,
    equities and the VIX pool in one direction), and every characteristic by name."""
    frame = result.car(window).assign(day0=pd.to_datetime(result.day0))
    frame["hypothesis"] = result.hypotheses["hypothesis"].to_numpy()
    frame["car_aligned"] = frame["car"] * frame["hypothesis"]
    events = result.events_frame.drop_duplicates("event_id")
    extra = [c for c in events.columns if c not in frame.columns and c not in ("date", "timezone", "title",
                                                                                 "source", "notes")]
    frame = frame.merge(events[["event_id", *extra]], on="event_id", how="left")
    assets = registry()[["asset_class", "label"]].rename_axis("asset").reset_index()
    frame = frame.merge(assets, on="asset", how="left")
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            raise ImpactError(f"data must be a DataFrame keyed by asset and/or event_id, not {type(data).__name__}")
        keys = [k for k in ("event_id", "asset") if k in data.columns]
        if not keys:
            raise ImpactError("data needs an 'asset' column (per asset), 'event_id' (per event) or both (per pair)")
        if data.duplicated(keys).any():
            raise ImpactError(f"data has several rows per {' and '.join(keys)}; keep one per key")
        clash = [c for c in data.columns if c in frame.columns and c not in keys]
        frame = frame.drop(columns=clash).merge(data.astype({k: str for k in keys}), on=keys, how="left")
    return frame


def regress(result, formula: str, window: Window = (-1, 1), data: pd.DataFrame | None = None,
            cov: str = "cluster", cluster: str = "day0", weights: str | None = None) -> CrossSectionResult:
    """Regress the pairs' CAR over ``window`` on characteristics (``formula`` in patsy
    syntax with ``car`` or ``car_aligned`` on the left, e.g. ``"car ~ C(kind) + china_share"``).

    ``cov``: ``"cluster"`` (by ``cluster``: ``"day0"`` session, ``"event_id"`` or
    ``"asset"``), ``"HC1"``, ``"HC3"`` or ``"nonrobust"``; ``weights="inverse_variance"``
    fits WLS with weights 1 / se²."""
    if cov not in COVARIANCES:
        raise ImpactError(f"unknown cov {cov!r}; choose one of {', '.join(COVARIANCES)}")
    if cov == "cluster" and cluster not in CLUSTERS:
        raise ImpactError(f"unknown cluster {cluster!r}; choose one of {', '.join(CLUSTERS)}")
    if weights not in (None, "inverse_variance"):
        raise ImpactError(f"unknown weights {weights!r}; use None or 'inverse_variance'")
    if not isinstance(formula, str) or "~" not in formula:
        raise ImpactError(f"formula {formula!r} needs a left side and a right side, e.g. 'car ~ C(kind)'")
    frame = regression_frame(result, window, data)
    frame = frame[np.isfinite(frame["car"]) & (weights is None or np.isfinite(frame["se"]) & (frame["se"] > 0))]
    try:
        if weights is None:
            model = smf.ols(formula, frame, missing="drop")
        else:
            model = smf.wls(formula, frame, weights=1.0 / frame["se"] ** 2, missing="drop")
    except (PatsyError, NameError, SyntaxError) as exc:
        names = ", ".join(c for c in frame.columns if c not in ("window",))
        first = str(exc).splitlines()[0]
        raise ImpactError(f"formula {formula!r}: {first} (columns available: {names})") from None
    used = frame.loc[model.data.row_labels]
    if len(used) <= model.exog.shape[1]:
        raise ImpactError(f"formula {formula!r}: {len(used)} pairs for {model.exog.shape[1]} coefficients; "
                          "use a wider study or fewer terms")
    how = cov
    if cov == "cluster":
        groups = pd.factorize(used[cluster])[0]
        exog = pd.DataFrame(model.exog, columns=model.exog_names)
        varying = exog.loc[:, exog.nunique() > 1]  # the characteristics (not the intercept)
        if weights is None and varying.shape[1] and (varying.groupby(groups).nunique() <= 1).all().all():
            # Every characteristic is constant within a cluster (an event's kind, shared by all assets
            # of its day): the clusters are the observations. Cluster-robust s.e. from a handful of
            # clusters would be far too small; regress the cluster means (Donald & Lang 2007), t(G - k).
            if groups.max() + 1 < exog.shape[1] + MIN_RESIDUAL_DF:
                raise ImpactError(f"formula {formula!r}: the characteristics are the same for every pair of one "
                                  f"{cluster} cluster, so the {groups.max() + 1} clusters are the observations, too few "
                                  f"for {exog.shape[1]} coefficients (at least {MIN_RESIDUAL_DF} residual degrees of "
                                  "freedom); use fewer terms or a study with more announcements")
            means = exog.groupby(groups).first()
            fitted = sm.OLS(pd.Series(model.endog).groupby(groups).mean().rename("car"), means).fit()
            how = "between"
        elif groups.max() + 1 < 2 * exog.shape[1]:
            raise ImpactError(f"formula {formula!r}: {groups.max() + 1} {cluster} clusters for {exog.shape[1]} "
                              "coefficients: cluster-robust s.e. need many more clusters than coefficients (Cameron & "
                              "Miller 2015); use fewer terms, cluster='event_id' when the characteristics are per "
                              "event (the regression then runs on event means), or cov='HC1'")
        else:
            fitted = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)  # t(G - 1)
    else:
        fitted = model.fit(cov_type=cov)
    return CrossSectionResult(fitted, used.reset_index(drop=True), formula, (window[0], window[1]), how,
                              cluster if cov == "cluster" else None, weights)


extend("regress", regress)  # result.regress(...)
