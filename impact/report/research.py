"""The research sections of a report (issue 15), each asked for by a spec field:

* ``cross_section: {formula, window, cov, cluster, weights}`` — :meth:`result.regress`,
  a coefficient plot and the tidy coefficient table;
* ``volume: true`` (or ``{model: mean|market}``) — abnormal log volume, the cumulative
  abnormal volume path and a per-announcement table;
* ``volatility: true`` (or ``{window: [a, b]}``) — Beaver's variance ratios by announcement;
* ``bootstrap: {draws, seed, weights, cluster}`` — the date-clustered wild bootstrap of
  the CAAR, when :mod:`impact.inference.bootstrap` is installed in the package.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import ImpactError, SpecError
from ..inference.volatility import pooled
from ..study.extensions import has_extension
from ..study.plots import STYLE, caar_path_figure
from ..study.statistics import cross_sectional_t, significance_stars

if TYPE_CHECKING:
    from ..study.result import EventStudyResult

FIELDS = ("cross_section", "volume", "volatility", "bootstrap")


def _window(value: Any, where: str) -> tuple[int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value) or value[0] > value[1]):
        raise SpecError(f"{where}: expected [start, end] integers, got {value!r}")
    return int(value[0]), int(value[1])


def check_research(data: dict, where) -> dict[str, Any]:
    """The validated research fields of a spec (None where absent); ``where(field)`` names it."""
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    cs = data.get("cross_section")
    if cs is not None:
        if isinstance(cs, str):
            cs = {"formula": cs}
        if not isinstance(cs, dict) or "formula" not in cs or set(cs) - {"formula", "window", "cov", "cluster",
                                                                         "weights"}:
            raise SpecError(f"{where('cross_section')}: expected a formula or a mapping with 'formula' (and "
                            "optional window, cov, cluster, weights)")
        out["cross_section"] = {"formula": str(cs["formula"]), "window": _window(cs.get("window", [0, 0]),
                                                                                  f"{where('cross_section')}.window"),
                                "cov": cs.get("cov", "cluster"), "cluster": cs.get("cluster", "day0"),
                                "weights": cs.get("weights")}
    for name, keys, default in (("volume", {"model"}, {"model": "mean"}), ("volatility", {"window"}, {"window": [0, 0]}),
                                ("bootstrap", {"draws", "seed", "weights", "cluster"}, {})):
        value = data.get(name)
        if value is None or value is False:
            continue
        if value is True:
            value = {}
        if not isinstance(value, dict) or set(value) - keys:
            raise SpecError(f"{where(name)}: expected true or a mapping with {', '.join(sorted(keys))}")
        value = {**default, **value}
        if "window" in value:
            value["window"] = _window(value["window"], f"{where(name)}.window")
        for key in ("draws", "seed"):
            if key in value and (not isinstance(value[key], int) or isinstance(value[key], bool)
                                 or value[key] < (1 if key == "draws" else 0)):
                raise SpecError(f"{where(name)}.{key}: expected a {'positive' if key == 'draws' else 'non-negative'} "
                                "integer")
        out[name] = value
    return out


def _rows(frame: pd.DataFrame, percent: tuple[str, ...] = (), digits: dict[str, int] | None = None) -> list[dict]:
    digits = digits or {}
    rows = []
    for rec in frame.to_dict("records"):
        row = {}
        for key, v in rec.items():
            if isinstance(v, (float, np.floating)) and not np.isfinite(v):
                row[key] = ""
            elif key in percent:
                row[key] = f"{100 * float(v):+.2f}%"
            elif isinstance(v, (float, np.floating)):
                row[key] = f"{float(v):.{digits.get(key, 2)}f}"
            else:
                row[key] = str(v)
        rows.append(row)
    return rows


def variance_ratio_figure(table: pd.DataFrame, title: str) -> Figure:
    """Mean variance ratio per announcement (``group, mean_u``), the null level 1 marked."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8, 0.35 * len(table) + 1.5))
        ax = fig.subplots()
        y = np.arange(len(table))[::-1]
        ax.barh(y, table["mean_u"], color=["#b2182b" if p < 0.05 else "#bbbbbb" for p in table["p_value"].fillna(1)])
        ax.axvline(1, color="black", lw=0.8, ls="--")
        ax.set_yticks(y, [str(g) for g in table["group"]], fontsize=8)
        ax.set_xlabel("Mean variance ratio U (1 = an ordinary day; red: p < 0.05)")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
    return fig


def _chronological(result: EventStudyResult) -> list[str]:
    """The result's event ids by their first day 0."""
    first = pd.Series(pd.to_datetime(result.day0), index=result.pairs["event_id"].to_numpy()).groupby(level=0).min()
    return list(first.sort_values(kind="stable").index)


def _few_clusters_note(table: pd.DataFrame) -> str:
    """With G date clusters the Rademacher draws take only 2^G sign patterns (half of them
    mirror images), so p cannot fall far below 1 / 2^(G-1): say so when that bounds it."""
    dates = table[(table["cluster"] != "pair") & (table["clusters"] >= 2)]
    if dates.empty or dates["clusters"].min() > 10:
        return ""
    g = int(dates["clusters"].min())
    return (f"With only {g} date clusters there are {2 ** g} sign patterns, so the date-clustered p cannot fall "
            f"far below {1 / 2 ** (g - 1):.3g}: few dates are weak evidence, however many assets moved. ")


def research_sections(spec, result: EventStudyResult, original: EventStudyResult, out) -> list[dict]:
    """The sections the spec asks for; each writes its table(s) and figure through ``out``."""
    sections: list[dict] = []
    cs = getattr(spec, "cross_section", None)
    if cs:
        title = f"Cross-section: {cs['formula']}, CAR [{cs['window'][0]}, {cs['window'][1]}]"
        try:
            fit = result.regress(cs["formula"], window=cs["window"], cov=cs["cov"], cluster=cs["cluster"],
                                 weights=cs["weights"])
        except ImpactError as exc:
            if "too few" not in str(exc) and "many more clusters" not in str(exc):
                raise SpecError(f"{spec.source}: field 'cross_section': {exc}") from None
            # the study cannot answer the question: say so in the report instead of printing noise
            sections.append({"id": "cross-section", "title": title, "meta": f"Not estimated: {exc}.",
                             "figure": None, "alt": "", "columns": [], "rows": []})
            fit = None
    if cs and fit is not None:
        table = fit.table
        out.table("cross_section", table)
        src = out.figure("cross_section", fit.plot())
        sections.append({
            "id": "cross-section", "title": title,
            "meta": (f"OLS{' weighted by 1/se²' if cs['weights'] else ''} over {len(fit.frame)} announcement-asset "
                     f"pairs, covariance {table['cov'].iloc[0]}"
                     + (f" ({int(table['clusters'].iloc[0])} clusters"
                        + ("; the characteristics are the same for every asset of a date, so the dates are the "
                           f"observations: {int(fit.model.nobs)} date means, {int(fit.model.df_resid)} residual degrees "
                           "of freedom)" if fit.cov == "between" else ")") if cs["cov"] == "cluster" else "")
                     + "; coefficients in return units (0.01 = 1 percentage point); a C(...) term is the "
                       "difference from the category first in alphabetical order, whose mean is the intercept. "
                       "car_aligned = CAR × the asset's expected sign. Table cross_section."),
            "figure": src, "alt": f"Coefficients of {cs['formula']} with 95% intervals",
            "columns": ["term", "coef", "se", "t", "p_value"],
            "rows": _rows(table[["term", "coef", "se", "t", "p_value"]], percent=("coef", "se"),
                          digits={"p_value": 3}),
        })
    vol = getattr(spec, "volume", None)
    volume = None
    if vol:
        try:
            volume = original.abnormal_volume(vol["model"]).by_bundle()
        except ImpactError as exc:  # no asset with volume (ETFs, FX): the section says so
            sections.append({"id": "volume", "title": "Abnormal trading volume", "meta": f"Not estimated: {exc}.",
                             "figure": None, "alt": "", "columns": [], "rows": []})
    if vol and volume is not None:
        window = spec.car_windows[0]
        cav = volume.car(window)
        out.table("abnormal_volume", cav)
        order = _chronological(volume)
        per = cav.groupby("event_id", sort=False)["car"].apply(cross_sectional_t).unstack().reindex(order).reset_index()
        per["stars"] = per["p_value"].map(significance_stars)
        src = out.figure("abnormal_volume", caar_path_figure(
            volume.caar_path(), "Cumulative abnormal log volume, mean across assets\n(0.69 = one day at twice the "
            "usual volume)", scale=1.0, ylabel="Cumulative abnormal log volume"))
        sections.append({
            "id": "volume", "title": f"Abnormal trading volume, CAV [{window[0]}, {window[1]}]",
            "meta": (f"log(1 + volume) against its estimation-window {'mean' if vol['model'] == 'mean' else 'market model'} "
                     "(Campbell & Wasley 1996); 0.69 = twice the usual volume. "
                     f"{volume.pairs['asset'].nunique()} assets with volume; "
                     f"{len(volume.excluded)} pairs excluded (ETFs and FX carry no volume; reasons in table "
                     "abnormal_volume_excluded). Mean across assets per announcement with its cross-sectional t."),
            "figure": src, "alt": "Cumulative abnormal log volume over the event window",
            "columns": ["event_id", "mean", "t", "p_value", "n"],
            "rows": _rows(per[["event_id", "mean", "t", "p_value", "n"]], digits={"mean": 2, "p_value": 3, "n": 0}),
        })
        out.table("abnormal_volume_excluded", volume.excluded)
    vola = getattr(spec, "volatility", None)
    if vola:
        ratios = result.volatility(vola["window"])
        out.table("variance_ratios", ratios)
        by_event = pooled(ratios, by="event_id").set_index("event_id").reindex(_chronological(result))
        by_event = by_event.rename_axis("group").reset_index()
        w = vola["window"]
        src = out.figure("variance_ratios", variance_ratio_figure(by_event, f"Variance ratio [{w[0]}, {w[1]}] by announcement"))
        sections.append({
            "id": "volatility", "title": f"Abnormal volatility: variance ratios [{w[0]}, {w[1]}]",
            "meta": ("U = mean squared standardised AR over the window (Beaver 1968): 1 on an ordinary day, 4 for a "
                     "two-standard-deviation move. t tests the mean U against its null value across the assets of each "
                     "announcement (assets of one date are not independent). Implied-volatility levels (the VIX) are "
                     "measured by their level change (column level_change), not pooled. Table variance_ratios."),
            "figure": src, "alt": "Mean variance ratio by announcement",
            "columns": ["group", "mean_u", "t", "p_value", "share_above_1", "n"],
            "rows": _rows(by_event[["group", "mean_u", "t", "p_value", "share_above_1", "n"]],
                          digits={"p_value": 3, "n": 0}),
        })
    boot = getattr(spec, "bootstrap", None)
    if boot and has_extension("bootstrap"):
        window = spec.car_windows[0]
        # sign-aligned and by direction, as the headline's pooled effect: a plain CAAR over
        # escalations and de-escalations (and over the VIX and equities) cancels to ~0
        table = pd.concat([result.bootstrap(window=window, aligned=True, by="direction", **{**boot, "cluster": c})
                           for c in dict.fromkeys([boot.get("cluster", "date"), "pair"])], ignore_index=True)
        out.table("bootstrap", table)
        sections.append({
            "id": "bootstrap", "data": table,  # the headline quotes its date-clustered p
            "title": f"Wild bootstrap of the sign-aligned CAAR [{window[0]}, {window[1]}] by direction",
            "meta": ("The pooled effect of the headline findings (assets expected to rise on an escalation flipped; "
                     "mixed bundles left out), tested with weights drawn per event date (all assets of a date "
                     "together) against per pair (as peers do, which ignores same-date correlation); Cameron, "
                     "Gelbach & Miller (2008). " + _few_clusters_note(table) + "Table bootstrap."),
            "figure": None, "alt": "", "columns": list(table.columns),
            "rows": _rows(table, percent=("caar",), digits={"p_value": 3}),
        })
    return sections
