"""Build a complete report (HTML, figures, tables, Markdown summary) from a report spec.

The report is written into a temporary folder beside the target and renamed into
place at the end, so a failed run never leaves a half-written report. Layout of
``<out>/<spec name>/``::

    index.html          self-contained page (relative images, no scripts, no network)
    summary.md          headline findings and key tables in Markdown
    spec.yaml           the validated spec as run, with the impact version
    version.txt         the impact version
    figures/*.png|svg   every figure in both formats
    tables/*.csv|parquet every table in both formats
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape

from ..atomic import atomic_folder
from ..csvsafe import to_csv
from ..data import datasets
from ..data.cache import PriceCache
from ..data.factors import ff3_factors, prepare_factors
from ..data.sources import get_source
from ..errors import DataError, ImpactError, SpecError
from ..events.assets import asset_label, get_asset, registry
from ..events.catalog import Catalog
from ..inference import placebo
from ..progress import progress
from ..study.card import FILTERS
from ..study.eventstudy import EventStudy
from ..study.plots import STYLE, caar_path_figure, heatmap_matrix, result_heatmap
from ..study.result import EventStudyResult
from ..version import __version__
from .figures import ar_distribution_figure, placebo_figure, price_figure
from .findings import headline_findings, pct
from .research import research_sections
from .session_split import COLUMNS as SPLIT_COLUMNS
from .session_split import NO_OPENS, session_split_table, split_groups
from .spec import ReportSpec
from .tables import (
    UNSIGNED_KEYS,
    event_day_table,
    grouped_caar,
    overlap_summary,
    per_asset_table,
    per_event_table,
    provenance_table,
    quality_tables,
    spec_battery_table,
    window_label,
    with_stars,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_name(text: str) -> str:
    """A file-name stem from a symbol or label: ``^GSPC`` -> ``GSPC``, ``ZS=F`` -> ``ZS_F``,
    ``../x`` -> ``x``. Only letters, digits, ``_`` and ``-`` survive; never empty, never
    starting with a dot, so it cannot leave the report folder or hide in it."""
    stem = re.sub("_{2,}", "_", _UNSAFE.sub("_", str(text))).strip("_-")
    return stem[:80] or "unnamed"


def resolve_benchmarks(spec: ReportSpec) -> str | dict[str, str] | None:
    """Benchmark per asset: a symbol, or a mapping keyed by asset, asset class or 'default'."""
    if not isinstance(spec.benchmark, dict):
        return spec.benchmark
    out = {}
    for asset in spec.assets:
        cls = get_asset(asset).asset_class
        choice = spec.benchmark.get(asset, spec.benchmark.get(cls, spec.benchmark.get("default")))
        if choice is None:
            raise SpecError(f"{spec.source}: field 'benchmark': no benchmark for {asset} (class {cls}) and no 'default'")
        out[asset] = choice
    return out


def _benchmark_symbols(market) -> list[str]:
    if isinstance(market, Mapping):
        return sorted(set(market.values()))
    return [market] if market else []


def load_spec_prices(spec: ReportSpec, symbols: list[str], catalog=None) -> pd.DataFrame:
    """Prices for ``symbols`` from the spec's ``data``: the bundled sample (offline), a
    CSV/parquet file, or yfinance through the local price cache (downloads only what the
    cache lacks, from two years before the first event to a month after the last)."""
    symbols = list(dict.fromkeys(symbols))
    if spec.data == "bundled":
        return datasets.load_prices(symbols)
    if spec.data == "yahoo":

        events = (catalog or spec.load_catalog()).events
        start = pd.Timestamp(events["date"].min()) - pd.DateOffset(years=2)
        end = pd.Timestamp(events["date"].max()) + pd.DateOffset(days=31)
        report = PriceCache().fetch(symbols, start=start, end=end)
        report.raise_for_failures()
        return report.prices

    fetched = get_source(spec.data).fetch(symbols)
    if fetched.failed:
        what = "; ".join(f"{s} ({r})" for s, r in fetched.failed.items())
        raise DataError(f"{spec.data}: could not get {what}")
    return fetched.prices


def run_spec(spec: ReportSpec) -> EventStudyResult:
    """Run the study a spec describes (bundled sample data unless the spec says otherwise)."""
    catalog = spec.load_catalog()
    market = resolve_benchmarks(spec)
    prices = load_spec_prices(spec, [*spec.assets, *_benchmark_symbols(market)], catalog)
    study = EventStudy(
        prices, catalog, market=market, model=spec.model, estimation_window=spec.estimation_window,
        event_window=spec.event_window, returns=spec.returns, assets=spec.assets,
        min_estimation_obs=spec.min_estimation_obs, contamination=spec.contamination,
        hypotheses=spec.hypotheses, factors=spec_factors(spec),
    )
    return study.fit()


def spec_factors(spec: ReportSpec) -> pd.DataFrame | None:
    """The factor frame ``factors:`` names: bundled Fama-French columns or a CSV file."""
    if spec.factors is None:
        return None
    if isinstance(spec.factors, list):
        return ff3_factors()[spec.factors]
    return prepare_factors(pd.read_csv(spec.factors), spec.factors)


@dataclass
class ReportOutput:
    folder: Path
    result: EventStudyResult
    headlines: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def escalation_weights(result: EventStudyResult) -> np.ndarray:
    """Weights that make the placebo statistic the sign-aligned escalation CAAR: -1 for
    assets expected to rise on an escalation, +1 otherwise, 0 for pairs that are not
    escalations or carry no hypothesis."""
    direction = result.pairs["event_id"].astype(str).map(
        result.events_frame.drop_duplicates("event_id").set_index("event_id")["direction"]).to_numpy()
    return np.where(direction == "escalation", result.risk_signs, 0.0)


def placebo_run(result: EventStudyResult, spec: ReportSpec, window) -> tuple[dict | None, str]:
    """The spec's placebo run (field ``placebo``: draws, seed) through :mod:`impact.placebo`
    on the sign-aligned escalation CAAR over ``window``: every draw gives each event (bundle)
    one pseudo-date shared by all its assets, so the cross-asset correlation of a shock
    that hits many assets on one session is kept. ``(None, note)`` when not asked for
    or not available."""
    if not spec.placebo:
        return None, "No placebo run requested in the spec (field 'placebo')."

    n, seed = int(spec.placebo.get("draws", 500)), int(spec.placebo.get("seed", 0))
    weights = escalation_weights(result)
    if not (weights != 0).any():
        return None, "placebo run skipped: no escalation with a hypothesis in the sample"
    try:
        observed, draws, _ = placebo.placebo_draws(result, window, n_draws=n, seed=seed, weights=weights)
    except ImpactError as exc:  # e.g. too few pairs: the report still stands without the section
        return None, f"placebo run failed: {exc}"
    test = placebo.placebo_summary(result, window, observed, draws, n, seed)
    row = test.iloc[0]
    return ({"observed": float(observed[0]), "draws": np.asarray(draws, dtype=float)[:, 0], "table": test,
             "p_value": float(row["p_value"])},
            f"{n} draws (seed {seed}) of one pseudo-date per announcement, shared by all its assets and mapped to "
            f"each asset's own sessions, away from the real event windows (impact.placebo): observed sign-aligned "
            f"escalation CAAR {window_label(window)} {pct(float(observed[0]))}, placebo p = "
            f"{float(row['p_value']):.3f}; {100 * float(row['percentile']):.0f}% of the draws lie at or below it.")


# -- notebooks ---------------------------------------------------------------------------------

def _environment() -> Environment:
    env = Environment(loader=PackageLoader("impact.report", "templates"), autoescape=select_autoescape(default=True))
    env.filters.update(FILTERS)
    return env


# -- writing -----------------------------------------------------------------------------------

def write_report(spec: ReportSpec, out_root: str | Path = "out", result: EventStudyResult | None = None) -> ReportOutput:
    """Run ``spec`` and write ``<out_root>/<spec.name>/`` atomically."""
    result = result if result is not None else run_spec(spec)
    if not len(result.pairs):
        first = result.excluded.iloc[0] if len(result.excluded) else None
        why = f"; first: {first['event_id']} x {first['asset']}: {first['reason']}" if first is not None else ""
        raise DataError(f"{spec.source}: no asset-event pair could be estimated "
                        f"({len(result.excluded)} excluded{why})")
    name = safe_name(spec.name)
    with atomic_folder(out_root, name) as tmp:
        headlines = _render(spec, result, tmp)
    return ReportOutput(Path(out_root) / name, result, headlines)


class _Writer:
    """Writes tables (CSV + Parquet) and figures (PNG + SVG) under one folder."""

    def __init__(self, folder: Path):
        self.tables = folder / "tables"
        self.figures = folder / "figures"
        self.tables.mkdir()
        self.figures.mkdir()
        self.table_names: list[str] = []
        self.figure_names: list[str] = []

    def table(self, name: str, frame: pd.DataFrame) -> str:
        stem = safe_name(name)
        to_csv(frame, self.tables / f"{stem}.csv", index=False)  # for spreadsheets; parquet stays raw
        clean = frame.copy()
        for col in clean.columns:  # parquet needs one type per column
            if clean[col].dtype == object:
                clean[col] = clean[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                            else v if isinstance(v, str) else str(v))
        clean.to_parquet(self.tables / f"{stem}.parquet", index=False)
        self.table_names.append(stem)
        return stem

    def figure(self, name: str, fig) -> str:

        stem = safe_name(name)
        with matplotlib.rc_context(STYLE):  # tick labels are laid out at draw time
            fig.savefig(self.figures / f"{stem}.png")
            fig.savefig(self.figures / f"{stem}.svg")
        self.figure_names.append(stem)
        return f"figures/{stem}.png"


def _render(spec: ReportSpec, result: EventStudyResult, folder: Path) -> list[str]:

    out = _Writer(folder)
    catalog = result.study.events if isinstance(result.study.events, Catalog) else spec.load_catalog()
    events = catalog.events
    main_window = spec.car_windows[0]
    # Announcements priced in one session of an asset share every number: report them once, as a bundle.
    original, result = result, result.by_bundle()
    cars = {w: result.car(w) for w in spec.car_windows}

    # Tables
    out.table("bundles", original.bundles)
    out.table("abnormal_returns", result.ar)
    out.table("parameters", result.params)
    out.table("excluded", result.excluded)
    out.table("alignment", original.alignment.drop(columns=["instant_lo", "instant_hi"], errors="ignore"))
    out.table("aar", result.aar())
    for w, frame in cars.items():
        out.table(f"car_{w[0]}_{w[1]}", with_stars(frame))
    event_day = event_day_table(result)
    out.table("event_day", event_day)
    per_event = per_event_table(result, main_window)
    out.table("per_event", per_event)
    per_asset = per_asset_table(result, main_window)
    out.table("per_asset", per_asset)
    groups = {}
    for key in spec.grouping:
        how = "" if key in UNSIGNED_KEYS else ", sign-aligned"
        groups[f"by {key.replace('_', ' ')}{how}"] = grouped_caar(result, main_window, key)
    out.table("caar", pd.concat([t.assign(grouping=k) for k, t in groups.items()], ignore_index=True))
    battery, battery_notes = spec_battery_table(result, spec)
    if len(battery):
        out.table("tests", battery)
    research = research_sections(spec, result, original, out)  # cross-section, volume, volatility, bootstrap

    # Figures
    figs: dict[str, Any] = {}
    todo: list[tuple[str, Any]] = [("caar", key) for key in spec.grouping] + [("heatmap", None), ("distribution", None)]
    todo += [("price", a) for a in result.study.assets or sorted(result.pairs["asset"].unique())]
    overlaps = result.contamination
    if len(overlaps):
        out.table("contamination", overlaps)
    used = list(dict.fromkeys([*(result.study.assets or []), *_benchmark_symbols(result.study.market)]))
    prices = result.study.prices
    if prices is None or not set(used) <= set(prices["symbol"]):
        prices = load_spec_prices(spec, used, catalog)
    prices = prices.assign(date=pd.to_datetime(prices["date"]))
    # Where in the day: day-0 gap vs session per asset, the news on each asset's clock (issue 14).
    split = session_split_table(original.alignment, original.bundles, prices, spec.assets) if "open" in prices.columns \
        else pd.DataFrame(columns=SPLIT_COLUMNS)
    out.table("session_split", split)
    lead = [a for a in ("GSPC", "SPY", "QQQ", "HSI") if a in set(split["asset"])] + list(dict.fromkeys(split["asset"]))
    split_view = split_groups(split, lead) if len(split) else []
    alignment = original.alignment.merge(events[["event_id", "direction"]], on="event_id", how="left")
    first, last = pd.Timestamp(events["date"].min()), pd.Timestamp(events["date"].max())
    for kind, arg in progress(todo, desc="figures", unit="fig"):
        if kind == "caar":
            aligned = arg not in UNSIGNED_KEYS
            path = result.caar_path(by=arg, aligned=aligned)
            name = "caar_path" if arg == spec.grouping[0] else f"caar_path_{arg}"
            how = " (sign-aligned: assets expected to rise on an escalation flipped)" if aligned else ""
            figs.setdefault("caar", []).append({
                "src": out.figure(name, caar_path_figure(path, f"CAAR by {arg.replace('_', ' ')}"
                                                         + (", sign-aligned" if aligned else ""))),
                "alt": f"CAAR path over the event window by {arg}{how} with confidence bands",
                "svg": f"figures/{name}.svg"})
        elif kind == "heatmap":
            hw = spec.heatmap_window
            label = "Day-0 abnormal returns" if hw == (0, 0) else f"CARs over {window_label(hw)}"
            name = "heatmap_day0" if hw == (0, 0) else f"heatmap_{hw[0]}_{hw[1]}"
            matrix = heatmap_matrix(result, hw)
            figs["heatmap"] = {"src": out.figure(name, result_heatmap(result, matrix, f"{label} by asset and event")),
                               "alt": f"Heatmap of {label.lower()}, assets by events", "svg": f"figures/{name}.svg"}
        elif kind == "distribution":
            frame = event_day.dropna(subset=["kind", "direction"])
            frame = frame[frame["hypothesis"] != 0].assign(ar_aligned=lambda f: -f["escalation_sign"] * f["ar_pct"])
            figs["distribution"] = {
                "src": out.figure("ar_distribution", ar_distribution_figure(
                    frame, value="ar_aligned", title="Day-0 abnormal returns, sign-aligned")),
                "alt": "Distribution of sign-aligned day-0 abnormal returns by kind and direction (assets expected "
                       "to rise on an escalation flipped; mixed bundles left out)",
                "svg": "figures/ar_distribution.svg"}
        elif kind == "price":
            series = prices[prices["symbol"] == arg].set_index("date")["close"]
            if series.empty:
                continue
            lo, hi = first - pd.Timedelta(days=60), last + pd.Timedelta(days=60)
            series = series[(series.index >= lo) & (series.index <= hi)]
            marks = alignment[(alignment["asset"] == arg) & alignment["day0"].notna()]
            marks = marks.rename(columns={"day0": "date"})[["date", "direction"]].reset_index(drop=True)
            unit = registry()["unit"].get(arg, "") if arg in registry().index else ""
            stem = f"price_{safe_name(arg)}"
            figs.setdefault("prices", []).append({
                "src": out.figure(stem, price_figure(series, marks, arg, unit, asset_label(arg))), "asset": arg,
                "alt": f"{arg} close with announcements marked", "svg": f"figures/{stem}.svg"})

    run, placebo_note = placebo_run(result, spec, main_window)
    if run is not None:
        fig = placebo_figure(100 * run["draws"], 100 * run["observed"], f"CAAR {window_label(main_window)} (%)",
                             p_value=run["p_value"])
        figs["placebo"] = {"src": out.figure("placebo", fig), "svg": "figures/placebo.svg",
                           "alt": "Observed CAAR against its placebo distribution"}
        out.table("placebo_draws", pd.DataFrame({"draw": np.arange(len(run["draws"])), "caar": run["draws"]}))
        out.table("placebo_test", run["table"])

    quality, quality_note = quality_tables(result, prices)
    for name, frame in quality.items():
        out.table(name, frame)
    provenance = provenance_table(used, spec.data)
    out.table("provenance", provenance)

    boot = next((s["data"] for s in research if s["id"] == "bootstrap"), None)
    findings = headline_findings(result, spec, main_window, event_day, run, bootstrap=boot)
    align_info = {"rules": original.alignment["rule"].value_counts().to_dict(),
                  "flags": int((original.alignment["flags"].astype(str) != "").sum())}

    env = _environment()
    context = dict(
        spec=spec, version=__version__, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_events=len(events), n_pairs=len(result.pairs), excluded=result.excluded.to_dict("records"),
        groups={k: v.to_dict("records") for k, v in groups.items()}, window=list(main_window),
        headlines=findings, figs=figs, events=events.astype(object).where(events.notna(), "").to_dict("records"),
        per_event=per_event.to_dict("records"), per_asset=per_asset.to_dict("records"),
        event_day=event_day.sort_values(["event_date", "event_id", "asset"]).to_dict("records"),
        bundles=original.bundles.query("n_events > 1").drop_duplicates("bundle").to_dict("records"),
        battery=battery.to_dict("records"), battery_columns=list(battery.columns), battery_notes=battery_notes,
        placebo_note=placebo_note, quality_note=quality_note, session_split=split_view, research=research,
        quality={k: {"columns": list(v.columns), "rows": v.head(300).astype(object).where(v.head(300).notna(), "")
                     .to_dict("records"), "n": len(v)} for k, v in quality.items() if k != "data_quality"},
        overlaps=overlap_summary(overlaps, result.study.contamination),
        alignment=align_info, benchmark=resolve_benchmarks(spec), provenance=provenance.to_dict("records"),
        catalog_sources=[Path(str(src)).name for src in catalog.sources], tables=out.table_names,
    )
    (folder / "index.html").write_text(env.get_template("report.html.j2").render(**context), encoding="utf-8")
    (folder / "summary.md").write_text(_markdown(spec, findings, per_asset, per_event, main_window, split_view),
                                       encoding="utf-8")
    (folder / "spec.yaml").write_text(
        yaml.safe_dump(spec.to_dict() | {"impact_version": __version__}, sort_keys=False), encoding="utf-8")
    (folder / "version.txt").write_text(f"impact {__version__}\n", encoding="utf-8")
    return findings


def _markdown(spec: ReportSpec, headlines: list[str], per_asset: pd.DataFrame, per_event: pd.DataFrame,
              window, split_view: list[dict] | None = None) -> str:
    def esc(text) -> str:  # Markdown viewers render inline HTML: user text must not become tags
        return str(text).replace("<", "&lt;").replace(">", "&gt;")

    def row(cells):
        return "| " + " | ".join(esc(c).replace("|", "\\|") for c in cells) + " |"

    w = window_label(window)
    lines = [f"# {esc(spec.title)}", "", f"Spec `{spec.name}`, impact {__version__}.", "", "## Headline findings", ""]
    lines += [f"- {esc(h)}" for h in headlines]
    lines += ["", f"## Mean CAR {w} by asset", "", row(["asset", "CAAR", "t", "p", "n", ""]), row(["---"] * 6)]
    lines += [row([r.asset, pct(r.caar), f"{r.t:.2f}", f"{r.p_value:.3f}", int(r.n), r.stars])
              for r in per_asset.itertuples()]
    lines += ["", f"## Sign-aligned mean CAR {w} across assets, by event or bundle", "",
              "Assets expected to rise on an escalation are flipped; mixed bundles have no hypothesis.", "",
              row(["event / bundle", "date", "direction", "title", "aligned CAAR", "t", "p", "n",
                   "as hypothesised", ""]), row(["---"] * 10)]
    lines += [row([r.event_id, f"{pd.Timestamp(r.date):%Y-%m-%d}", r.direction, r.title, pct(r.caar_aligned),
                   f"{r.t:.2f}", f"{r.p_value:.3f}", int(r.n),
                   f"{int(r.n_hypothesised)} of {int(r.n)}" if r.n else "", r.stars])
              for r in per_event.itertuples()]
    if split_view:
        lines += ["", "## When did it move? Day-0 gap (previous close to open) vs session (open to close)", ""]
        lines += [f"- {pd.Timestamp(g['day0']):%Y-%m-%d} {esc(g['bundle'])}: {esc(g['summary'])}" for g in split_view
                  if g['summary'] != NO_OPENS]
    lines += ["", "Stars: * p<0.10, ** p<0.05, *** p<0.01. Full tables: `tables/` (CSV and Parquet).", ""]
    return "\n".join(lines)
