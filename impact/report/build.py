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

from .. import __version__
from ..atomic import atomic_folder
from ..csvsafe import to_csv
from ..data import datasets
from ..errors import DataError, ImpactError, SpecError
from ..events.assets import get_asset, registry
from ..events.catalog import Catalog
from ..inference.statistics import significance_stars
from ..progress import progress
from ..study.eventstudy import EventStudy
from ..study.models import NEEDS_BENCHMARK
from ..study.result import EventStudyResult
from . import findings as headlines
from .spec import BUILTIN_TESTS, ReportSpec

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
        from ..data.cache import PriceCache

        events = (catalog or spec.load_catalog()).events
        start = pd.Timestamp(events["date"].min()) - pd.DateOffset(years=2)
        end = pd.Timestamp(events["date"].max()) + pd.DateOffset(days=31)
        report = PriceCache().fetch(symbols, start=start, end=end)
        report.raise_for_failures()
        return report.prices
    from ..data.sources import get_source

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
        hypotheses=spec.hypotheses,
    )
    return study.fit()


@dataclass
class ReportOutput:
    folder: Path
    result: EventStudyResult
    headlines: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


# -- tables -----------------------------------------------------------------------------------

def _events_frame(result: EventStudyResult) -> pd.DataFrame:
    return result.events_frame.copy()


def _window_label(w) -> str:
    return f"[{w[0]},{w[1]}]"


def heatmap_matrix(result: EventStudyResult, window: tuple[int, int] = (0, 0)) -> pd.DataFrame:
    """Assets x events matrix of CARs over ``window`` (day-0 ARs for ``(0, 0)``)."""
    cars = result.car(window)
    matrix = cars.pivot(index="asset", columns="event_id", values="car")
    order = [a for a in (result.study.assets or []) if a in matrix.index] or list(matrix.index)
    events = [e for e in _events_frame(result)["event_id"] if e in matrix.columns]
    return matrix.reindex(index=order, columns=events)


def event_labels(result: EventStudyResult, event_ids) -> list[str]:
    """``id (YYYY-MM-DD)`` axis labels for events (the announcement date)."""
    dates = _events_frame(result).drop_duplicates("event_id").set_index("event_id")["date"]
    return [f"{e} ({pd.Timestamp(dates[e]):%Y-%m-%d})" if e in dates.index and pd.notna(dates[e]) else str(e)
            for e in event_ids]


#: What each model's abnormal return is measured against, for tables and sentences.
_AGAINST = {"constant_mean": "its own mean (constant-mean model)", "raw": "zero (raw returns)",
            "ff3": "the Fama-French three factors", "factors": "the study's factors"}


def _against(model: str, bench: str | None) -> str:
    if model == "market":
        return f"the market model on {headlines.label(bench)} ({bench})"
    if model == "market_adjusted":
        return f"{headlines.label(bench)} ({bench}), market-adjusted"
    if model == "garch":
        return f"the GARCH(1,1) market model on {bench}"
    return _AGAINST.get(model, model)


def to_simple(values: np.ndarray, kind: str) -> np.ndarray:
    """Simple returns from the study's returns (log returns converted: e^r - 1)."""
    values = np.asarray(values, dtype=float)
    return np.expm1(values) if kind == "log" else values


def event_day_table(result: EventStudyResult) -> pd.DataFrame:
    """One row per (event or bundle, asset) on its day-0 session: the asset's own return
    ``ret_pct`` (simple), the normal return, the abnormal return (``ar`` in the model's
    units, ``ar_pct`` in simple terms: e^AR - 1 for log returns), what it is abnormal
    against (``model``, ``benchmark``, ``benchmark_ret_pct``), the CAR t-test, and the
    hypothesis (``escalation_sign``, ``hypothesis``, ``as_hypothesised``)."""
    study = result.study
    k0 = int(np.flatnonzero(result.rel_days == 0)[0])
    kind = study.returns_kind
    ret, ar = result.raw[:, k0], result.abnormal[:, k0]
    models = result.fit.models
    assets = result.pairs["asset"].to_numpy()
    per_asset = {a: study._benchmark_of(a) if study.model_of(a) in NEEDS_BENCHMARK else None for a in set(assets)}
    bench = [per_asset[a] for a in assets]
    bench_ret = np.where(pd.notna(bench), to_simple(result.benchmark[:, k0, 0], kind), np.nan)
    against = {key: _against(*key) for key in dict.fromkeys(zip(models, bench))}
    test = result.car((0, 0))
    signs = result.hypotheses
    out = pd.DataFrame({
        "event_id": result.pairs["event_id"].astype(str).to_numpy(), "asset": result.pairs["asset"].to_numpy(),
        "day0": pd.to_datetime(result.day0), "ret_pct": to_simple(ret, kind), "normal_pct": to_simple(ret - ar, kind),
        "ar": ar, "ar_pct": to_simple(ar, kind), "model": models, "benchmark": [b or "" for b in bench],
        "benchmark_ret_pct": bench_ret, "against": [against[m, b] for m, b in zip(models, bench)],
        "se": test["se"].to_numpy(), "t": test["t"].to_numpy(), "p_value": test["p_value"].to_numpy(),
        "escalation_sign": signs["escalation_sign"].to_numpy(), "hypothesis": signs["hypothesis"].to_numpy(),
    })
    out["as_hypothesised"] = np.where(out["hypothesis"] != 0, np.sign(out["ar"]) == out["hypothesis"], pd.NA)
    cols = [c for c in ("date", "title", "actor", "kind", "direction", "members") if c in result.events_frame.columns]
    ev = _events_frame(result)[["event_id", *cols]].drop_duplicates("event_id").rename(columns={"date": "event_date"})
    out = out.merge(ev, on="event_id", how="left")
    out.insert(2, "label", out["asset"].map(headlines.label))
    out.insert(3, "asset_class", out["asset"].map(registry()["asset_class"]).fillna("unknown"))
    out["stars"] = out["p_value"].map(significance_stars)
    return out.reset_index(drop=True)


def _with_stars(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(stars=frame["p_value"].map(significance_stars))


def per_event_table(result: EventStudyResult, window) -> pd.DataFrame:
    """Per event (or bundle): the sign-aligned mean CAR across its assets
    (:meth:`EventStudyResult.caar_aligned`), the share that moved the hypothesised way,
    and the session most assets first priced it in. Mixed bundles have no hypothesis
    (``n = 0``, ``n_left_out``): their move is in the event-day table, not pooled."""
    table = result.caar_aligned(window, by="event_id")
    cols = [c for c in ("date", "title", "actor", "kind", "direction", "members") if c in result.events_frame.columns]
    ev = _events_frame(result)[["event_id", *cols]].drop_duplicates("event_id")
    # The session most assets first priced the news in (announcement date and day 0 can differ).
    day0 = pd.Series(pd.to_datetime(result.day0)).groupby(result.pairs["event_id"].astype(str).to_numpy()).agg(
        lambda d: d.mode().iloc[0])
    out = ev.merge(table, on="event_id", how="inner")
    out.insert(2, "day0", out["event_id"].map(day0))
    return _with_stars(out)


def per_asset_table(result: EventStudyResult, window) -> pd.DataFrame:
    """Mean CAR across events for each asset (unsigned: one asset, one hypothesis),
    cross-sectional t."""
    table = result.caar(window, by="asset")
    names = registry()["name"]
    table.insert(1, "name", table["asset"].map(names).fillna(table["asset"]))
    table.insert(2, "asset_class", table["asset"].map(registry()["asset_class"]).fillna("unknown"))
    order = {a: i for i, a in enumerate(result.study.assets or [])}
    table = table.sort_values("asset", key=lambda s: s.map(order).fillna(len(order)))
    return _with_stars(table.reset_index(drop=True))


#: Grouping keys whose groups hold one kind of asset: their CAARs stay unsigned.
UNSIGNED_KEYS = ("asset_class", "asset")


def grouped_caar(result: EventStudyResult, window, key: str) -> pd.DataFrame:
    """CAAR by ``key``: unsigned within an asset class or asset, sign-aligned otherwise
    (groups that pool assets with opposite hypotheses)."""
    if key in UNSIGNED_KEYS:
        return _with_stars(result.caar(window, by=key))
    return _with_stars(result.caar_aligned(window, by=key))


def battery_table(result: EventStudyResult, names=None, windows=None) -> pd.DataFrame:
    """Tidy table of the test battery: one row per (test, window) with ``statistic,
    p_value, n, stars``. Defaults: every battery test but the (slow) placebo, over
    [0,0], [-1,1] and the whole event window."""
    from .spec import available_tests

    ea, eb = result.study.event_window
    windows = windows or [w for w in ((0, 0), (-1, 1), (ea, eb)) if ea <= w[0] and w[1] <= eb]
    windows = list(dict.fromkeys(tuple(w) for w in windows))
    names = names or [t for t in available_tests() if t not in BUILTIN_TESTS and t != "placebo"]
    rows = []
    for name in progress(names, desc="tests", unit="test"):
        for w in windows:
            frame = pd.DataFrame(result.test(name, w))
            frame.insert(0, "test", name)
            rows.append(frame)
    if not rows:
        return pd.DataFrame(columns=["test", "window", "statistic", "p_value", "n", "stars"])
    return _with_stars(pd.concat(rows, ignore_index=True))


def spec_battery_table(result: EventStudyResult, spec: ReportSpec) -> tuple[pd.DataFrame, list[str]]:
    """Tests named in the spec beyond the built-in ones, via ``result.test(name, window)``;
    a test undefined for this sample is listed with its reason, not fatal."""
    rows, notes = [], []
    extra = [t for t in spec.tests if t not in BUILTIN_TESTS]
    if not extra:
        return pd.DataFrame(), notes
    for name in extra:
        for window in spec.car_windows:
            try:
                table = result.test(name, window)
            except ImpactError as exc:  # e.g. a test undefined for one pair must not sink the report
                notes.append(f"{name} {_window_label(window)}: not available ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no message'})")
                break
            table = pd.DataFrame(table).copy()
            table.insert(0, "test", name)
            if "window" not in table.columns:
                table.insert(1, "window", _window_label(window))
            rows.append(table)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if "p_value" in out.columns:
        out = _with_stars(out)
    return out, notes


def quality_tables(result: EventStudyResult, prices: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], str]:
    """Data-quality findings from :func:`impact.quality.check_prices`: all findings, a count
    per symbol and issue, and the findings that fall inside an event window (those can move
    a CAR). Returns ``({}, note)`` when the checks cannot run on these prices."""
    from ..data import quality

    try:
        findings = pd.DataFrame(quality.check_prices(prices))
    except ValueError as exc:  # bad input for the checks must not sink the report; say what happened
        return {}, f"impact.quality.check_prices failed: {exc}"
    out = {"data_quality": findings, "data_quality_summary": quality.quality_summary(findings)}
    if {"symbol", "date"} <= set(findings.columns):
        windows = result.ar[["asset", "date", "event_id", "rel_day"]].rename(columns={"asset": "symbol"})
        found = findings.assign(date=pd.to_datetime(findings["date"]))
        out["data_quality_in_windows"] = found.merge(windows, on=["symbol", "date"]).sort_values(
            ["event_id", "symbol", "rel_day"], ignore_index=True)
    note = (f"{len(findings)} findings from impact.quality.check_prices on every series used "
            f"(issues: {', '.join(quality.ISSUES)}).")
    return out, note


def escalation_weights(result: EventStudyResult) -> np.ndarray:
    """Weights that make the placebo statistic the sign-aligned escalation CAAR: -1 for
    assets expected to rise on an escalation, +1 otherwise, 0 for pairs that are not
    escalations or carry no hypothesis."""
    signs = result.hypotheses
    direction = result.pairs["event_id"].astype(str).map(
        _events_frame(result).drop_duplicates("event_id").set_index("event_id")["direction"]).to_numpy()
    use = (signs["hypothesis"].to_numpy() != 0) & (direction == "escalation")
    return np.where(use, -signs["escalation_sign"].to_numpy(), 0)


def placebo_run(result: EventStudyResult, spec: ReportSpec, window) -> tuple[dict | None, str]:
    """The spec's placebo run (field ``placebo``: draws, seed) through :mod:`impact.placebo`
    on the sign-aligned escalation CAAR over ``window``: every draw gives each event (bundle)
    one pseudo-date shared by all its assets, so the cross-asset correlation of a shock
    that hits many assets on one session is kept. ``(None, note)`` when not asked for
    or not available."""
    if not spec.placebo:
        return None, "No placebo run requested in the spec (field 'placebo')."
    from ..inference import placebo

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
            f"escalation CAAR {_window_label(window)} {_pct(float(observed[0]))}, placebo p = "
            f"{float(row['p_value']):.3f}; {100 * float(row['percentile']):.0f}% of the draws lie at or below it.")


# -- words -------------------------------------------------------------------------------------

_pct = headlines.pct


def _histories(result: EventStudyResult) -> dict[str, pd.Series]:
    """Each asset's one-session simple returns over its whole series (for a move's rank)."""
    panel = result.study.panel
    return {a: pd.Series(to_simple(panel.returns[a].to_numpy(), result.study.returns_kind),
                         index=panel.returns[a].index) for a in result.pairs["asset"].unique()}


def lead_asset(result: EventStudyResult) -> str | None:
    """The asset a session sentence starts with: the first equity index (or broad ETF) studied."""
    assets = list(result.study.assets or result.pairs["asset"].unique())
    classes = registry()["asset_class"]
    for wanted in (("equity_index",), ("equity_etf",)):
        for a in assets:
            if classes.get(a) in wanted:
                return a
    return assets[0] if assets else None


def headline_findings(result: EventStudyResult, spec: ReportSpec, window, event_day: pd.DataFrame,
                      placebo: dict | None = None) -> list[str]:
    """Sentences computed from the tables (nothing here is typed by hand): what markets
    did on the sessions that priced the news, the sign-aligned pooled effect by direction
    with its tests, the largest abnormal moves, and the count of significant pairs.
    ``result`` is bundled (:meth:`EventStudyResult.by_bundle`): no move is counted twice."""
    units = "log " if result.study.returns_kind == "log" else ""
    lines = headlines.session_sentences(event_day, _histories(result), lead_asset(result), units=units)
    w = _window_label(window)
    if "direction" in result.events_frame.columns:
        aligned = result.caar_aligned(window, by="direction")
        mixed = event_day[event_day["direction"] == "mixed"]
        left_out = ""
        if len(mixed):
            ids = ", ".join(dict.fromkeys(mixed["event_id"]))
            left_out = (f"Left out of the directional pooling: {len(mixed)} asset-sessions of mixed bundles ({ids}), "
                        "whose announcements point in opposite directions.")
        note = f"; placebo p = {placebo['p_value']:.3f} with shared pseudo-dates" if placebo else ""
        sentence = headlines.aligned_sentence(aligned, w, note, left_out, units)
        if sentence:
            lines.append(sentence)
    moves = headlines.largest_moves_sentence(event_day)
    if moves:
        lines.append(moves)
    n_sig = int((event_day["p_value"] < 0.05).sum()) if len(event_day) else 0
    lines.append(f"{n_sig} of {len(event_day)} day-0 abnormal returns (asset-sessions) are significant at 5% by the "
                 f"CAR t-test (about {0.05 * len(event_day):.0f} would be by chance alone); "
                 f"{len(result.excluded)} pairs were excluded (reasons listed below).")
    return lines


# -- provenance --------------------------------------------------------------------------------

def provenance_table(symbols: list[str], data: str = "bundled") -> pd.DataFrame:
    """Name, class, unit and the source row of ``SOURCES.md`` for every series used
    (for non-bundled data: where the prices were read from)."""
    text = datasets.provenance() if data == "bundled" else ""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 9 and cells[0].startswith("prices/") and cells[0].endswith(".csv"):
            rows[cells[0][len("prices/"):-len(".csv")]] = cells
    reg = registry()
    out = []
    for s in symbols:
        cells = rows.get(s, [""] * 9)
        meta = reg.loc[s] if s in reg.index else None
        out.append({
            "symbol": s,
            "name": meta["name"] if meta is not None else s,
            "asset_class": meta["asset_class"] if meta is not None else "unknown",
            "unit": meta["unit"] if meta is not None else "",
            "source": cells[2] if data == "bundled" else ("Yahoo Finance via yfinance (local price cache)"
                                                          if data == "yahoo" else f"file {data}"),
            "date_range": cells[4], "rows": pd.to_numeric(cells[5], errors="coerce"), "adjusted": cells[6],
            "license": cells[7], "caveats": cells[8] if len(cells) > 8 else "",
        })
    return pd.DataFrame(out)


def _overlap_summary(overlaps: pd.DataFrame, mode) -> dict | None:
    """Counts for the data-quality section: overlapping event windows of the same asset."""
    if mode is None:
        return None
    if not len(overlaps):
        return {"mode": mode, "n": 0}
    same = int((overlaps["gap"] == 0).sum()) if "gap" in overlaps.columns else 0
    return {"mode": mode, "n": len(overlaps), "assets": overlaps["asset"].nunique(), "same_session": same,
            "decisions": overlaps["decision"].value_counts().to_dict() if "decision" in overlaps.columns else {}}


# -- notebooks ---------------------------------------------------------------------------------

def _environment() -> Environment:
    env = Environment(loader=PackageLoader("impact.report", "templates"), autoescape=select_autoescape(default=True))
    env.filters["pct"] = lambda v, d=2: "" if v is None or pd.isna(v) else f"{100 * v:+.{d}f}%"
    env.filters["upct"] = lambda v, d=2: "" if v is None or pd.isna(v) else f"{100 * v:.{d}f}%"
    env.filters["num"] = lambda v, d=2: "" if v is None or pd.isna(v) else f"{v:.{d}f}"
    env.filters["day"] = lambda v: "" if v is None or pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}"
    env.filters["stars"] = significance_stars
    return env


def result_html(result: EventStudyResult, windows=None, top: int = 5) -> str:
    """The HTML a notebook shows for a result: settings, counts, CAAR tests over a few
    windows and the largest CARs (all text autoescaped)."""
    study = result.study
    ea, eb = study.event_window
    windows = windows or [w for w in ((0, 0), (-1, 1), (ea, eb)) if ea <= w[0] and w[1] <= eb]
    windows = list(dict.fromkeys(tuple(w) for w in windows))
    caar = pd.concat([result.caar(w) for w in windows], ignore_index=True) if len(result.pairs) else pd.DataFrame()
    main = windows[0] if windows else (ea, eb)
    cars = result.car(main) if len(result.pairs) else pd.DataFrame(columns=["car"])
    moves = cars.reindex(cars["car"].abs().sort_values(ascending=False).index).head(top)
    market = study.market
    return _environment().get_template("result.html.j2").render(
        model=study.model, returns=study.returns_kind,
        benchmark=dict(market) if isinstance(market, Mapping) else market,
        estimation_window=list(study.estimation_window), event_window=list(study.event_window),
        n_pairs=len(result.pairs), n_events=result.pairs["event_id"].nunique(),
        n_assets=result.pairs["asset"].nunique(), n_excluded=len(result.excluded),
        caar=caar.to_dict("records"), moves=moves.to_dict("records"), main=_window_label(main),
    )


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
        from .figures import STYLE

        stem = safe_name(name)
        with matplotlib.rc_context(STYLE):  # tick labels are laid out at draw time
            fig.savefig(self.figures / f"{stem}.png")
            fig.savefig(self.figures / f"{stem}.svg")
        self.figure_names.append(stem)
        return f"figures/{stem}.png"


def _render(spec: ReportSpec, result: EventStudyResult, folder: Path) -> list[str]:
    from .figures import ar_distribution_figure, caar_path_figure, heatmap_figure, placebo_figure, price_figure

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
        out.table(f"car_{w[0]}_{w[1]}", _with_stars(frame))
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

    # Figures
    figs: dict[str, Any] = {}
    todo = [("caar", key) for key in spec.grouping] + [("heatmap", None), ("distribution", None)]
    todo += [("price", a) for a in result.study.assets or sorted(result.pairs["asset"].unique())]
    overlaps = result.contamination
    if len(overlaps):
        out.table("contamination", overlaps)
    used = list(dict.fromkeys([*(result.study.assets or []), *_benchmark_symbols(result.study.market)]))
    prices = result.study.prices
    if prices is None or not set(used) <= set(prices["symbol"]):
        prices = load_spec_prices(spec, used, catalog)
    prices = prices.assign(date=pd.to_datetime(prices["date"]))
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
            label = "Day-0 abnormal returns" if hw == (0, 0) else f"CARs over {_window_label(hw)}"
            name = "heatmap_day0" if hw == (0, 0) else f"heatmap_{hw[0]}_{hw[1]}"
            matrix = heatmap_matrix(result, hw)
            figs["heatmap"] = {"src": out.figure(name, heatmap_figure(matrix, f"{label} by asset and event",
                                                                       event_labels(result, matrix.columns))),
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
                "src": out.figure(stem, price_figure(series, marks, arg, unit)), "asset": arg,
                "alt": f"{arg} close with announcements marked", "svg": f"figures/{stem}.svg"})

    run, placebo_note = placebo_run(result, spec, main_window)
    if run is not None:
        fig = placebo_figure(100 * run["draws"], 100 * run["observed"], f"CAAR {_window_label(main_window)} (%)",
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

    findings = headline_findings(result, spec, main_window, event_day, run)
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
        placebo_note=placebo_note, quality_note=quality_note,
        quality={k: {"columns": list(v.columns), "rows": v.head(300).astype(object).where(v.head(300).notna(), "")
                     .to_dict("records"), "n": len(v)} for k, v in quality.items() if k != "data_quality"},
        overlaps=_overlap_summary(overlaps, result.study.contamination),
        alignment=align_info, benchmark=resolve_benchmarks(spec), provenance=provenance.to_dict("records"),
        catalog_sources=[Path(str(src)).name for src in catalog.sources], tables=out.table_names,
    )
    (folder / "index.html").write_text(env.get_template("report.html.j2").render(**context), encoding="utf-8")
    (folder / "summary.md").write_text(_markdown(spec, findings, per_asset, per_event, main_window), encoding="utf-8")
    (folder / "spec.yaml").write_text(
        yaml.safe_dump(spec.to_dict() | {"impact_version": __version__}, sort_keys=False), encoding="utf-8")
    (folder / "version.txt").write_text(f"impact {__version__}\n", encoding="utf-8")
    return findings


def _markdown(spec: ReportSpec, headlines: list[str], per_asset: pd.DataFrame, per_event: pd.DataFrame,
              window) -> str:
    def esc(text) -> str:  # Markdown viewers render inline HTML: user text must not become tags
        return str(text).replace("<", "&lt;").replace(">", "&gt;")

    def row(cells):
        return "| " + " | ".join(esc(c).replace("|", "\\|") for c in cells) + " |"

    w = _window_label(window)
    lines = [f"# {esc(spec.title)}", "", f"Spec `{spec.name}`, impact {__version__}.", "", "## Headline findings", ""]
    lines += [f"- {esc(h)}" for h in headlines]
    lines += ["", f"## Mean CAR {w} by asset", "", row(["asset", "CAAR", "t", "p", "n", ""]), row(["---"] * 6)]
    lines += [row([r.asset, _pct(r.caar), f"{r.t:.2f}", f"{r.p_value:.3f}", int(r.n), r.stars])
              for r in per_asset.itertuples()]
    lines += ["", f"## Sign-aligned mean CAR {w} across assets, by event or bundle", "",
              "Assets expected to rise on an escalation are flipped; mixed bundles have no hypothesis.", "",
              row(["event / bundle", "date", "direction", "title", "aligned CAAR", "t", "p", "n",
                   "as hypothesised", ""]), row(["---"] * 10)]
    lines += [row([r.event_id, f"{pd.Timestamp(r.date):%Y-%m-%d}", r.direction, r.title, _pct(r.caar_aligned),
                   f"{r.t:.2f}", f"{r.p_value:.3f}", int(r.n),
                   f"{int(r.n_hypothesised)} of {int(r.n)}" if r.n else "", r.stars])
              for r in per_event.itertuples()]
    lines += ["", "Stars: * p<0.10, ** p<0.05, *** p<0.01. Full tables: `tables/` (CSV and Parquet).", ""]
    return "\n".join(lines)
