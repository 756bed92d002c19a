"""Build an HTML report (figures, tables) from a report spec.

The report is written into a temporary folder beside the target and renamed into
place at the end, so a failed run never leaves a half-written report.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape

from . import __version__, datasets
from .assets import get_asset
from .errors import SpecError
from .spec import ReportSpec
from .statistics import significance_stars
from .study import EventStudy, EventStudyResult


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


def run_spec(spec: ReportSpec) -> EventStudyResult:
    """Run the study a spec describes on the bundled sample data."""
    catalog = spec.load_catalog()
    market = resolve_benchmarks(spec)
    benchmarks = set(market.values()) if isinstance(market, dict) else ({market} if market else set())
    prices = datasets.load_prices([*spec.assets, *sorted(benchmarks)])
    study = EventStudy(
        prices, catalog, market=market, model=spec.model, estimation_window=spec.estimation_window,
        event_window=spec.event_window, returns=spec.returns, assets=spec.assets,
        min_estimation_obs=spec.min_estimation_obs,
    )
    return study.fit()


@dataclass
class ReportOutput:
    folder: Path
    result: EventStudyResult

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def _day0_matrix(result: EventStudyResult) -> pd.DataFrame:
    ar = result.ar
    day0 = ar[ar["rel_day"] == 0]
    matrix = day0.pivot(index="asset", columns="event_id", values="ar")
    order = [a for a in result.study.assets or [] if a in matrix.index] or list(matrix.index)
    return matrix.reindex(index=order)


def write_report(spec: ReportSpec, out_root: str | Path = "out", result: EventStudyResult | None = None) -> ReportOutput:
    """Run ``spec`` and write ``<out_root>/<spec.name>/`` atomically."""
    result = result if result is not None else run_spec(spec)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / spec.name
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=out_root))
    try:
        _render(spec, result, tmp)
        if final.exists():
            old = out_root / f".{spec.name}-old-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportOutput(final, result)


def _render(spec: ReportSpec, result: EventStudyResult, folder: Path) -> None:
    tables = folder / "tables"
    figures = folder / "figures"
    tables.mkdir()
    figures.mkdir()

    catalog = spec.load_catalog()
    events = catalog.events
    cars = {w: result.car(w) for w in spec.car_windows}
    main_window = spec.car_windows[0]
    result.ar.to_csv(tables / "abnormal_returns.csv", index=False)
    result.params.to_csv(tables / "parameters.csv", index=False)
    result.excluded.to_csv(tables / "excluded.csv", index=False)
    result.alignment.drop(columns=["instant_lo", "instant_hi"], errors="ignore").to_csv(tables / "alignment.csv", index=False)
    result.aar().to_csv(tables / "aar.csv", index=False)
    for w, frame in cars.items():
        frame.to_csv(tables / f"car_{w[0]}_{w[1]}.csv", index=False)
    caar_tables = {
        "all pairs": result.caar(main_window),
        "by direction": result.caar(main_window, by="direction"),
        "by asset": result.caar(main_window, by="asset"),
        "by kind": result.caar(main_window, by="kind"),
    }
    pd.concat([t.assign(grouping=k) for k, t in caar_tables.items()]).to_csv(tables / "caar.csv", index=False)

    path = result.caar_path(by="direction")
    fig = caar_path_figure(path, "CAAR by direction of the announcement")
    fig.savefig(figures / "caar_path.png")
    plt.close(fig)
    fig = heatmap_figure(_day0_matrix(result), "Day-0 abnormal returns by asset and event")
    fig.savefig(figures / "heatmap_day0.png")
    plt.close(fig)

    car_main = cars[main_window].merge(events[["event_id", "date", "title", "direction", "kind"]], on="event_id", how="left")
    car_main["stars"] = car_main["p_value"].map(significance_stars)
    top = car_main.reindex(car_main["car"].abs().sort_values(ascending=False).index).head(25)

    env = Environment(loader=PackageLoader("impact", "templates"), autoescape=select_autoescape(default=True))
    env.filters["pct"] = lambda v, d=2: "" if pd.isna(v) else f"{100 * v:+.{d}f}%"
    env.filters["num"] = lambda v, d=2: "" if pd.isna(v) else f"{v:.{d}f}"
    env.filters["stars"] = significance_stars
    html = env.get_template("report.html.j2").render(
        spec=spec, version=__version__, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        n_events=len(events), n_pairs=len(result.pairs), excluded=result.excluded.to_dict("records"),
        caar_tables={k: v.to_dict("records") for k, v in caar_tables.items()}, window=list(main_window),
        top=top.to_dict("records"), events=events.to_dict("records"),
        alignment_rules=result.alignment["rule"].value_counts().to_dict(),
        benchmark=spec.benchmark, catalog_sources=catalog.sources,
    )
    (folder / "index.html").write_text(html, encoding="utf-8")
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec.to_dict() | {"impact_version": __version__}, sort_keys=False),
                                      encoding="utf-8")


from .figures import caar_path_figure, heatmap_figure  # noqa: E402
