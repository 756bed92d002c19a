"""Report specifications (YAML): which events, which assets, which model and windows.

A spec is validated field by field; errors name the file and the field.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..data.factors import FF3_COLUMNS, RF
from ..errors import ImpactError, SpecError
from ..events.assets import registry
from ..events.catalog import Catalog, load_catalog, resolve_catalog
from ..events.contamination import MODES as contamination_modes
from ..inference.battery import TESTS
from ..resources import reports_dir
from ..study.hypotheses import check_overrides
from ..study.models import FACTOR_MODELS, MODELS
from .research import FIELDS as RESEARCH_FIELDS
from .research import check_research

FILTER_KEYS = ("start", "end", "actor", "kind", "direction", "confidence", "tags", "ids")


def catalog_filters(value: Any, where: str) -> dict[str, Any]:
    """Validate a spec's catalog filters (``Catalog.filter`` keywords); ``where`` names the field.

    Dates stay strings: YAML turns unquoted dates into date objects.
    """
    filters = value or {}
    if not isinstance(filters, Mapping):
        raise SpecError(f"{where}: expected a mapping of catalog filters")
    bad = sorted(set(filters) - set(FILTER_KEYS))
    if bad:
        raise SpecError(f"{where}: unknown filter '{bad[0]}' (known: {', '.join(FILTER_KEYS)})")
    return {k: (str(v) if k in ("start", "end") else v) for k, v in filters.items()}
#: Pair attributes a report can group CAARs by (catalog fields or the asset's class).
GROUP_KEYS = ("direction", "kind", "actor", "asset_class", "asset", "confidence")
#: Tests every report computes itself; other names are passed to ``result.test(name, window)``.
BUILTIN_TESTS = ("car_t", "cross_sectional_t")
_TEST_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def available_tests() -> tuple[str, ...]:
    """Test names a spec may list: the report's own plus the battery of ``result.test``."""
    return tuple(dict.fromkeys([*BUILTIN_TESTS, *TESTS]))


def bundled_symbol(symbol: str) -> str:
    """A bundled symbol for ``symbol``, which may also be its Yahoo ticker (``^GSPC``, ``ZS=F``)."""

    table = registry()
    if symbol in table.index:
        return symbol
    hits = table.index[table["yahoo"] == symbol]
    return str(hits[0]) if len(hits) else symbol


@dataclass
class ReportSpec:
    name: str
    title: str
    catalog: str = "us_china_trade_policy"
    filters: dict[str, Any] = field(default_factory=dict)
    assets: list[str] = field(default_factory=list)
    benchmark: str | dict[str, str] | None = "GSPC"
    model: str | dict[str, str] = "market"
    factors: list[str] | str | None = None  # bundled FF3 columns, or a CSV path (model ff3 / factors)
    returns: str = "log"
    estimation_window: tuple[int, int] = (-260, -11)
    event_window: tuple[int, int] = (-5, 5)
    car_windows: list[tuple[int, int]] = field(default_factory=lambda: [(-1, 1), (0, 0)])
    min_estimation_obs: int | None = None
    tests: list[str] = field(default_factory=lambda: list(BUILTIN_TESTS))
    grouping: list[str] = field(default_factory=lambda: ["direction", "asset_class", "kind"])
    heatmap_window: tuple[int, int] = (0, 0)
    placebo: dict[str, int] | None = None
    data: str = "bundled"
    contamination: str = "exclude"
    hypotheses: dict[str, Any] = field(default_factory=dict)
    cross_section: dict[str, Any] | None = None  # research sections (impact.report.research)
    volume: dict[str, Any] | None = None
    volatility: dict[str, Any] | None = None
    bootstrap: dict[str, Any] | None = None
    description: str = ""
    source: str = "<memory>"

    def load_catalog(self) -> Catalog:
        catalog = load_catalog(resolve_catalog(self.catalog, self.source))
        return catalog.filter(**self.filters) if self.filters else catalog

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "description": self.description,
            "catalog": self.catalog, "filters": self.filters, "assets": self.assets,
            "benchmark": self.benchmark, "model": self.model,
            **({"factors": self.factors} if self.factors is not None else {}), "returns": self.returns,
            "estimation_window": list(self.estimation_window), "event_window": list(self.event_window),
            "car_windows": [list(w) for w in self.car_windows], "min_estimation_obs": self.min_estimation_obs,
            "tests": list(self.tests), "grouping": list(self.grouping),
            "heatmap_window": list(self.heatmap_window), "placebo": self.placebo, "data": self.data,
            "contamination": self.contamination, "hypotheses": self.hypotheses,
            **{f: _plain(getattr(self, f)) for f in RESEARCH_FIELDS if getattr(self, f) is not None},
        }


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    """A research field as YAML writes it (windows as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}


def available_specs() -> list[str]:
    return sorted(p.stem for p in reports_dir().glob("*.yaml"))


def resolve_yaml(name_or_path: str, folder: Path, what: str) -> Path:
    """A spec file: a path to a YAML file, or the name of one bundled in ``folder``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise SpecError(f"{path}: {what} not found")
        return path
    bundled = folder / f"{name_or_path}.yaml"
    if not bundled.is_file():
        names = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise SpecError(f"no {what} named {name_or_path!r} (bundled: {names})")
    return bundled


def resolve_spec_path(name_or_path: str | None) -> Path:
    """A bundled spec name (``default``) or a path to a YAML file."""
    return resolve_yaml(name_or_path or "default", reports_dir(), "report spec")


def _window(value: Any, where: str) -> tuple[int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise SpecError(f"{where}: expected [start, end] integers, got {value!r}")
    if value[0] > value[1]:
        raise SpecError(f"{where}: start {value[0]} is after end {value[1]}")
    return int(value[0]), int(value[1])


def read_yaml(path: Path) -> Any:
    """A spec file's YAML (``safe_load``), or a one-line SpecError naming the file and the fix."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # a Latin-1 / Windows save: name the spot, not a traceback
        line = raw[:exc.start].count(b"\n") + 1
        raise SpecError(f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") \
            from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None


def load_spec(name_or_path: str | None = None) -> ReportSpec:
    """Load and validate a report spec by bundled name or path."""
    path = resolve_spec_path(name_or_path)
    return spec_from_dict(read_yaml(path), str(path))


def _factors(value: Any, model: str | dict[str, str], where: str, source: str) -> list[str] | str | None:
    """``factors:``: ``ff3`` (all bundled Fama-French columns), a list of them (``rf`` listed
    means excess returns), or the path of a CSV of daily simple factor returns (``date`` + columns)."""
    used = {model} if isinstance(model, str) else set(model.values())
    if value is None:
        if "factors" in used:
            raise SpecError(f"{where}: model 'factors' needs factors: (bundled columns from "
                            f"{', '.join(FF3_COLUMNS)}, 'ff3', or a CSV path)")
        return None
    if not used & set(FACTOR_MODELS):
        raise SpecError(f"{where}: given, but the model is not 'ff3' or 'factors' (set model: factors)")
    if value == "ff3":
        return list(FF3_COLUMNS)
    if isinstance(value, list):
        bad = [c for c in value if c not in FF3_COLUMNS]
        if bad or not [c for c in value if c != RF]:
            raise SpecError(f"{where}: expected bundled factor columns from {', '.join(FF3_COLUMNS)} (at least "
                            f"one besides rf), got {bad[0] if bad else value!r}")
        return list(dict.fromkeys(value))
    if isinstance(value, str):
        path = Path(value)
        if not path.is_absolute() and source != "<memory>":
            path = Path(source).parent / path
        if path.suffix.lower() != ".csv" or not path.is_file():
            raise SpecError(f"{where}: {value!r} is neither 'ff3', a list of bundled columns nor an existing CSV file")
        return str(path)
    raise SpecError(f"{where}: expected 'ff3', a list of bundled factor columns or a CSV path, got {value!r}")


def spec_from_dict(data: Any, source: str = "<memory>") -> ReportSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a report spec must be a mapping of fields")
    known = set(ReportSpec.__dataclass_fields__) - {"source"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{source}: field '{unknown[0]}': unknown field (known: {', '.join(sorted(known))})")
    for required in ("name", "title", "assets"):
        if required not in data:
            raise SpecError(f"{source}: field '{required}': missing")
    where = lambda f: f"{source}: field '{f}'"  # noqa: E731
    name = data["name"]
    if not isinstance(name, str) or not _PLAIN_NAME.match(name):
        raise SpecError(f"{where('name')}: must be a plain name (letters, digits, '_' or '-'), got {name!r}")
    assets = data["assets"]
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) for a in assets):
        raise SpecError(f"{where('assets')}: expected a non-empty list of symbols")
    assets = list(dict.fromkeys(bundled_symbol(a) for a in assets))
    model = data.get("model", "market")
    if isinstance(model, dict):
        for key, value in model.items():
            if not isinstance(key, str) or value not in MODELS:
                raise SpecError(f"{where('model')}: entry {key!r}: unknown model {value!r} "
                                f"(choose from {', '.join(MODELS)})")
        model = dict(model)
    elif model not in MODELS:
        raise SpecError(f"{where('model')}: unknown model {model!r} (choose from {', '.join(MODELS)}, "
                        "or a mapping asset/asset class/default -> model)")
    factors = _factors(data.get("factors"), model, where("factors"), source)
    try:
        hypotheses = check_overrides(data.get("hypotheses"), where("hypotheses"))
    except ImpactError as exc:
        raise SpecError(str(exc)) from None
    returns = data.get("returns", "log")
    if returns not in ("log", "simple"):
        raise SpecError(f"{where('returns')}: expected 'log' or 'simple', got {returns!r}")
    filters = catalog_filters(data.get("filters"), where("filters"))
    benchmark = data.get("benchmark", "GSPC")
    if isinstance(benchmark, str):
        benchmark = bundled_symbol(benchmark)
    if benchmark is not None and not isinstance(benchmark, (str, dict)):
        raise SpecError(f"{where('benchmark')}: expected a symbol or a mapping asset -> symbol")
    est = _window(data.get("estimation_window", [-260, -11]), where("estimation_window"))
    ev = _window(data.get("event_window", [-5, 5]), where("event_window"))
    if est[1] >= ev[0]:
        raise SpecError(f"{where('estimation_window')}: must end before event_window {list(ev)} starts")
    cars = data.get("car_windows", [[-1, 1], [0, 0]])
    if not isinstance(cars, list) or not cars:
        raise SpecError(f"{where('car_windows')}: expected a list of [start, end] windows")
    car_windows = [_window(w, f"{where('car_windows')}[{i}]") for i, w in enumerate(cars)]
    for w in car_windows:
        if w[0] < ev[0] or w[1] > ev[1]:
            raise SpecError(f"{where('car_windows')}: window {list(w)} lies outside event_window {list(ev)}")
    min_obs = data.get("min_estimation_obs")
    if min_obs is not None and (not isinstance(min_obs, int) or min_obs < 1):
        raise SpecError(f"{where('min_estimation_obs')}: expected a positive integer")
    tests = data.get("tests", list(BUILTIN_TESTS))
    known_tests = available_tests()
    if (not isinstance(tests, list) or not tests
            or not all(isinstance(t, str) and _TEST_NAME.match(t) for t in tests)):
        raise SpecError(f"{where('tests')}: expected a non-empty list of test names (known: {', '.join(known_tests)})")
    for test in tests:
        if test not in known_tests:
            raise SpecError(f"{where('tests')}: unknown test {test!r} (known: {', '.join(known_tests)})")
    grouping = data.get("grouping", ["direction", "asset_class", "kind"])
    if isinstance(grouping, str):
        grouping = [grouping]
    if not isinstance(grouping, list) or not grouping:
        raise SpecError(f"{where('grouping')}: expected a non-empty list of keys ({', '.join(GROUP_KEYS)})")
    for key in grouping:
        if key not in GROUP_KEYS:
            raise SpecError(f"{where('grouping')}: unknown key {key!r} (choose from {', '.join(GROUP_KEYS)})")
    heat = _window(data.get("heatmap_window", [0, 0]), where("heatmap_window"))
    if heat[0] < ev[0] or heat[1] > ev[1]:
        raise SpecError(f"{where('heatmap_window')}: window {list(heat)} lies outside event_window {list(ev)}")
    placebo = data.get("placebo")
    if placebo is not None:
        if not isinstance(placebo, dict) or set(placebo) - {"draws", "seed"}:
            raise SpecError(f"{where('placebo')}: expected a mapping with 'draws' (and optional 'seed')")
        for key, value in placebo.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "draws" else 0):
                kind = "positive" if key == "draws" else "non-negative"
                raise SpecError(f"{where('placebo')}.{key}: expected a {kind} integer")
    if isinstance(benchmark, dict):
        for key, value in benchmark.items():
            if not isinstance(key, str) or not isinstance(value, str) or not value:
                raise SpecError(f"{where('benchmark')}: entry {key!r}: expected 'asset or class: symbol'")
        benchmark = {key: bundled_symbol(value) for key, value in benchmark.items()}
    source_name = data.get("data", "bundled")
    if not isinstance(source_name, str) or not source_name:
        raise SpecError(f"{where('data')}: expected 'bundled', 'yahoo' or a CSV/parquet path")
    if source_name not in ("bundled", "yahoo"):
        path = Path(source_name)
        if not path.is_absolute() and source != "<memory>":
            path = Path(source).parent / path
        if path.suffix.lower() not in (".csv", ".parquet") or not path.is_file():
            raise SpecError(f"{where('data')}: {source_name!r} is neither 'bundled', 'yahoo' nor an existing "
                            f"CSV/parquet file")
        source_name = str(path)
    contamination = data.get("contamination", "exclude")
    if contamination not in contamination_modes:
        raise SpecError(f"{where('contamination')}: expected one of {', '.join(contamination_modes)}, "
                        f"got {contamination!r}")
    if not isinstance(data["title"], str) or not data["title"].strip():
        raise SpecError(f"{where('title')}: expected a non-empty text")
    return ReportSpec(
        name=name, title=str(data["title"]), catalog=str(data.get("catalog", "us_china_trade_policy")),
        filters=filters, assets=list(assets), benchmark=benchmark, model=model, factors=factors, returns=returns,
        estimation_window=est, event_window=ev, car_windows=car_windows, min_estimation_obs=min_obs,
        tests=list(tests), grouping=list(dict.fromkeys(grouping)), heatmap_window=heat, placebo=placebo, data=source_name,
        contamination=contamination, hypotheses=hypotheses, **check_research(data, where),
        description=str(data.get("description", "")), source=source,
    )
