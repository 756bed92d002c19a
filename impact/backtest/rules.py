"""Backtest rules: which events, which assets, which side, when in and out, what it costs.

A rule is built in Python (:class:`BacktestRule`) or read from a YAML spec
(:func:`load_rule`); both go through :func:`rule_from_dict`, which checks every
field and raises :class:`~impact.errors.SpecError` with a one-line message that
names the file and the field.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..events.assets import registry
from ..events.catalog import DIRECTIONS, Catalog, load_catalog, resolve_catalog
from ..report.spec import catalog_filters, read_yaml, resolve_yaml
from ..resources import backtests_dir

ENTRIES = ("close", "next_open")
OVERLAPS = ("skip", "allow")
SIDES = {"long": 1, "short": -1, "flat": 0, 1: 1, -1: -1, 0: 0}
LEARNED = "learned"


@dataclass
class Learning:
    """How signs are learned from past events (walk-forward).

    The side for (asset, direction) is the sign of the mean long return of the
    same asset after earlier events of the same direction, using only trades whose
    exit price was struck strictly before the new entry; fewer than
    ``min_events`` such outcomes means no trade.
    """

    min_events: int = 2


@dataclass
class Sizing:
    """``equal``: every trade has weight 1; ``volatility``: weight = target daily
    volatility / the asset's daily return volatility over ``lookback`` sessions
    ending at the entry close (or the close before a next-open entry), capped at
    ``max_weight``."""

    method: str = "equal"
    target: float = 0.01
    lookback: int = 60
    max_weight: float = 5.0


@dataclass
class BacktestRule:
    """An event-driven trading rule.

    ``signs`` maps a catalog direction to ``long``/``short``/``flat`` for every asset,
    or an asset symbol to such a mapping (per-asset signs, e.g. short soybeans and
    long USD/CNY on escalation), or is the string ``"learned"``.
    ``exit_on_opposite`` (YAML ``exit: {opposite_event: true}``) closes a trade early at
    the first close after the next catalog announcement of the opposite direction.
    ``costs_bps``/``slippage_bps`` are per side, in basis points of notional,
    keyed by asset class (``default`` for the rest); a round trip pays both twice.
    ``roll_adjust``: ``splice`` (default) trades front-month futures on back-adjusted
    prices (:mod:`impact.backtest.rolls`), ``none`` on the raw quotes; ``roll_days``:
    ``auto`` (detected) or the path of a roll calendar CSV (``symbol, date``).
    """

    name: str
    assets: list[str]
    signs: str | dict[str, Any]
    holding: int = 5
    title: str = ""
    description: str = ""
    catalog: str = "us_china_trade_policy"
    events: dict[str, Any] = field(default_factory=dict)
    entry: str = "close"
    stop_loss_bps: float | None = None
    take_profit_bps: float | None = None
    exit_on_opposite: bool = False
    sizing: Sizing = field(default_factory=Sizing)
    learning: Learning = field(default_factory=Learning)
    costs_bps: dict[str, float] = field(default_factory=dict)
    slippage_bps: dict[str, float] = field(default_factory=dict)
    overlap: str = "skip"
    placebo_runs: int = 500
    placebo_seed: int = 12345
    roll_adjust: str = "splice"
    roll_days: str = "auto"
    source: str = "<memory>"

    def __post_init__(self) -> None:
        # Python-built rules get exactly the checks a YAML spec gets.
        checked = rule_from_dict(self.to_dict(), self.source)
        self.__dict__.update(checked.__dict__)

    # --- derived ---------------------------------------------------------------
    def side(self, asset: str, direction: str) -> int | None:
        """+1, -1 or 0 for fixed signs; ``None`` when signs are learned or unset."""
        if self.signs == LEARNED:
            return None
        assert isinstance(self.signs, dict)  # not LEARNED
        table = self.signs.get(asset, self.signs.get("*", {}))
        return table.get(direction) if table else None

    def cost_bps(self, asset_class: str) -> float:
        """One-way cost (commission + slippage) in basis points for an asset class."""
        c = self.costs_bps.get(asset_class, self.costs_bps.get("default", 0.0))
        s = self.slippage_bps.get(asset_class, self.slippage_bps.get("default", 0.0))
        return float(c) + float(s)

    def load_catalog(self, filtered: bool = True) -> Catalog:
        """The rule's catalog, with its event filters applied unless ``filtered=False``."""
        catalog = load_catalog(resolve_catalog(self.catalog, self.source))
        return catalog.filter(**self.events) if self.events and filtered else catalog

    def to_dict(self) -> dict[str, Any]:
        signs = self.signs
        if isinstance(signs, dict) and set(signs) == {"*"}:
            signs = signs["*"]
        sizing = self.sizing if isinstance(self.sizing, (str, dict)) else (
            "equal" if self.sizing.method == "equal" else
            {"volatility": {"target": self.sizing.target, "lookback": self.sizing.lookback,
                            "max_weight": self.sizing.max_weight}})
        learning = self.learning if isinstance(self.learning, dict) else {"min_events": self.learning.min_events}
        out = {
            "name": self.name, "title": self.title, "description": self.description,
            "catalog": self.catalog, "events": dict(self.events), "assets": list(self.assets),
            "signs": _plain_signs(signs), "entry": self.entry, "holding": self.holding,
            "exit": {k: v for k, v in (("stop_loss_bps", self.stop_loss_bps),
                                       ("take_profit_bps", self.take_profit_bps),
                                       ("opposite_event", self.exit_on_opposite or None)) if v is not None},
            "sizing": sizing, "learning": learning if signs == LEARNED else None, "costs_bps": dict(self.costs_bps),
            "slippage_bps": dict(self.slippage_bps), "overlap": self.overlap,
            "placebo": {"runs": self.placebo_runs, "seed": self.placebo_seed},
            "roll_adjust": self.roll_adjust, "roll_days": self.roll_days,
        }
        return out


def _plain_signs(signs: Any) -> Any:
    """Signs with +1/-1/0 written back as long/short/flat (for spec.yaml copies)."""
    names = {1: "long", -1: "short", 0: "flat"}
    if not isinstance(signs, dict):
        return signs
    return {k: (_plain_signs(v) if isinstance(v, dict) else names.get(v, v)) for k, v in signs.items()}


FIELDS = ("name", "title", "description", "catalog", "events", "assets", "signs", "entry", "holding",
          "exit", "sizing", "learning", "costs_bps", "slippage_bps", "overlap", "placebo", "roll_adjust",
          "roll_days")
ROLL_ADJUSTS = ("splice", "none")


def rule_from_dict(data: Any, source: str = "<memory>") -> BacktestRule:
    """Validate a rule given as a mapping (the YAML schema); errors name the field."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a backtest spec must be a mapping of fields")
    where = lambda f: f"{source}: field '{f}'"  # noqa: E731
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise SpecError(f"{where(unknown[0])}: unknown field (known: {', '.join(FIELDS)})")
    for required in ("name", "assets", "signs"):
        if required not in data or data[required] is None:
            raise SpecError(f"{where(required)}: missing")
    name = data["name"]
    if not isinstance(name, str) or not name or any(c in name for c in "/\\") or name.startswith("."):
        raise SpecError(f"{where('name')}: must be a plain name (letters, digits, '_' or '-'), got {name!r}")

    assets = data["assets"]
    if isinstance(assets, str):
        assets = [assets]
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) and a for a in assets):
        raise SpecError(f"{where('assets')}: expected a non-empty list of symbols")
    dupes = sorted({a for a in assets if assets.count(a) > 1})
    if dupes:
        raise SpecError(f"{where('assets')}: {dupes[0]} is listed twice")
    known = set(registry().index)
    unknown_assets = [a for a in assets if a not in known]
    if unknown_assets:
        raise SpecError(f"{where('assets')}: unknown asset {unknown_assets[0]!r} "
                        f"(known: {', '.join(sorted(known))})")

    events = catalog_filters(data.get("events"), where("events"))
    if "start" in events and "end" in events and events["start"] > events["end"]:
        raise SpecError(f"{where('events')}: start {events['start']} is after end {events['end']} (no event can match)")
    if "direction" in events:
        wanted = [events["direction"]] if isinstance(events["direction"], str) else list(events["direction"])
        wanted = [w.strip() for x in wanted for w in str(x).split(",") if w.strip()]
        bad_dir = [w for w in wanted if w not in DIRECTIONS]
        if bad_dir:
            raise SpecError(f"{where('events')}: unknown direction {bad_dir[0]!r} (allowed: {', '.join(DIRECTIONS)})")
    else:
        wanted = list(DIRECTIONS)

    signs = _parse_signs(data["signs"], assets, where("signs"))
    if isinstance(signs, dict):  # fixed signs (not LEARNED)
        # A rule that selects events it can never trade contradicts itself.
        for asset in assets:
            table = signs.get(asset, signs.get("*", {}))
            if "direction" in events and not any(table.get(d) for d in wanted):
                raise SpecError(
                    f"{where('signs')}: no long or short position for {asset} on the selected "
                    f"direction(s) {', '.join(wanted)} (events.direction); the rule could never trade")

    entry = data.get("entry", "close")
    if entry not in ENTRIES:
        raise SpecError(f"{where('entry')}: expected one of {', '.join(ENTRIES)}, got {entry!r}")
    holding = data.get("holding", 5)
    if not isinstance(holding, int) or isinstance(holding, bool):
        raise SpecError(f"{where('holding')}: expected a whole number of sessions, got {holding!r}")
    if holding < 1:
        raise SpecError(f"{where('holding')}: must be at least 1 session, got {holding}")

    exit_ = data.get("exit") or {}
    if not isinstance(exit_, Mapping):
        raise SpecError(f"{where('exit')}: expected a mapping with stop_loss_bps / take_profit_bps / opposite_event")
    bad = sorted(set(exit_) - {"stop_loss_bps", "take_profit_bps", "opposite_event"})
    if bad:
        raise SpecError(f"{where('exit')}: unknown exit rule '{bad[0]}' "
                        "(known: stop_loss_bps, take_profit_bps, opposite_event)")
    opposite = exit_.get("opposite_event", False)
    if not isinstance(opposite, bool):
        raise SpecError(f"{where('exit')}: opposite_event must be true or false, got {opposite!r}")
    limits = {}
    for key in ("stop_loss_bps", "take_profit_bps"):
        value = exit_.get(key)
        if value is not None:
            if not _number(value) or value <= 0:
                raise SpecError(f"{where('exit')}: {key} must be a positive number of basis points, got {value!r}")
            limits[key] = float(value)

    sizing = _parse_sizing(data.get("sizing", "equal"), where("sizing"))
    learning = _parse_learning(data.get("learning"), signs, where("learning"))
    costs = _parse_bps(data.get("costs_bps"), where("costs_bps"))
    slippage = _parse_bps(data.get("slippage_bps"), where("slippage_bps"))
    overlap = data.get("overlap", "skip")
    if overlap not in OVERLAPS:
        raise SpecError(f"{where('overlap')}: expected one of {', '.join(OVERLAPS)}, got {overlap!r}")
    placebo = data.get("placebo") or {}
    if not isinstance(placebo, Mapping) or set(placebo) - {"runs", "seed"}:
        raise SpecError(f"{where('placebo')}: expected a mapping with 'runs' and 'seed'")
    runs, seed = placebo.get("runs", 500), placebo.get("seed", 12345)
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 0:
        raise SpecError(f"{where('placebo')}: runs must be a non-negative integer, got {runs!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise SpecError(f"{where('placebo')}: seed must be an integer, got {seed!r}")

    roll_adjust = data.get("roll_adjust") or "splice"
    if roll_adjust not in ROLL_ADJUSTS:
        raise SpecError(f"{where('roll_adjust')}: expected one of {', '.join(ROLL_ADJUSTS)}, got {roll_adjust!r}")
    roll_days = data.get("roll_days") or "auto"
    if not isinstance(roll_days, str):
        raise SpecError(f"{where('roll_days')}: expected 'auto' or the path of a CSV with symbol, date")
    if roll_days != "auto":
        path = Path(roll_days) if Path(roll_days).is_absolute() else Path(source).parent / roll_days
        if not path.is_file():
            raise SpecError(f"{where('roll_days')}: no such roll calendar file {roll_days!r} "
                            "(a CSV with columns symbol, date; or 'auto')")
        roll_days = str(path)

    rule = object.__new__(BacktestRule)
    rule.__dict__.update(
        name=name, assets=list(assets), signs=signs, holding=holding, title=str(data.get("title") or name),
        description=str(data.get("description") or ""), catalog=str(data.get("catalog", "us_china_trade_policy")),
        events=events, entry=entry, stop_loss_bps=limits.get("stop_loss_bps"),
        take_profit_bps=limits.get("take_profit_bps"), exit_on_opposite=opposite, sizing=sizing,
        learning=learning, costs_bps=costs,
        slippage_bps=slippage, overlap=overlap, placebo_runs=runs, placebo_seed=seed, roll_adjust=roll_adjust,
        roll_days=roll_days, source=source,
    )
    return rule


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _side(value: Any, where: str) -> int:
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in SIDES or isinstance(value, bool):
        raise SpecError(f"{where}: expected long, short or flat, got {value!r}")
    return SIDES[key]


def _direction_table(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, Mapping) or not value:
        raise SpecError(f"{where}: expected a mapping direction -> long/short/flat")
    out = {}
    for direction, side in value.items():
        if direction not in DIRECTIONS:
            raise SpecError(f"{where}: unknown direction {direction!r} (allowed: {', '.join(DIRECTIONS)})")
        out[direction] = _side(side, f"{where}[{direction}]")
    return out


def _parse_signs(value: Any, assets: list[str], where: str) -> str | dict[str, dict[str, int]]:
    if isinstance(value, str):
        if value != LEARNED:
            raise SpecError(f"{where}: expected 'learned' or a mapping direction -> long/short, got {value!r}")
        return LEARNED
    if not isinstance(value, Mapping) or not value:
        raise SpecError(f"{where}: expected 'learned' or a mapping direction -> long/short")
    keys = set(value)
    if keys <= set(DIRECTIONS):
        return {"*": _direction_table(value, where)}
    if keys & set(DIRECTIONS):
        mixed = sorted(keys - set(DIRECTIONS))[0]
        raise SpecError(f"{where}: mixes directions and asset {mixed!r} at the same level; "
                        "give either one direction mapping or one per asset")
    extra = sorted(keys - set(assets) - {"*"})
    if extra:
        raise SpecError(f"{where}: sign given for {extra[0]!r}, which is not in assets")
    missing = [a for a in assets if a not in keys and "*" not in keys]
    if missing:
        raise SpecError(f"{where}: no signs for asset {missing[0]!r} (add it or a '*' entry)")
    return {str(a): _direction_table(t, f"{where}[{a}]") for a, t in value.items()}


def _parse_sizing(value: Any, where: str) -> Sizing:
    if value in (None, "equal"):
        return Sizing()
    if value == "volatility":
        return Sizing("volatility")
    if isinstance(value, Mapping) and set(value) == {"volatility"}:
        opts = value["volatility"] or {}
        if not isinstance(opts, Mapping) or set(opts) - {"target", "lookback", "max_weight"}:
            raise SpecError(f"{where}: volatility takes target, lookback and max_weight")
        sizing = Sizing("volatility", **{k: opts[k] for k in opts})
        if not _number(sizing.target) or sizing.target <= 0:
            raise SpecError(f"{where}: volatility target must be a positive daily volatility, got {sizing.target!r}")
        if not isinstance(sizing.lookback, int) or sizing.lookback < 2:
            raise SpecError(f"{where}: volatility lookback must be an integer >= 2 sessions, got {sizing.lookback!r}")
        if not _number(sizing.max_weight) or sizing.max_weight <= 0:
            raise SpecError(f"{where}: max_weight must be positive, got {sizing.max_weight!r}")
        return sizing
    raise SpecError(f"{where}: expected 'equal', 'volatility' or {{volatility: {{target, lookback, max_weight}}}}, "
                    f"got {value!r}")


def _parse_learning(value: Any, signs: Any, where: str) -> Learning:
    if value is None:
        return Learning()
    if signs != LEARNED:
        raise SpecError(f"{where}: given, but signs are fixed (set signs: learned, or drop learning)")
    if not isinstance(value, Mapping) or set(value) - {"min_events"}:
        raise SpecError(f"{where}: expected a mapping with min_events")
    n = value.get("min_events", 2)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SpecError(f"{where}: min_events must be a positive integer, got {n!r}")
    return Learning(n)


def _parse_bps(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if _number(value):
        value = {"default": value}
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected basis points, or a mapping asset class -> basis points")
    classes = set(registry()["asset_class"]) | {"default"}
    out = {}
    for key, bps in value.items():
        if key not in classes:
            raise SpecError(f"{where}: unknown asset class {key!r} (known: {', '.join(sorted(classes))})")
        if not _number(bps) or bps < 0:
            raise SpecError(f"{where}[{key}]: expected a non-negative number of basis points, got {bps!r}")
        out[str(key)] = float(bps)
    return out



def available_rules() -> list[str]:
    return sorted(p.stem for p in backtests_dir().glob("*.yaml"))


def resolve_rule_path(name_or_path: str) -> Path:
    """A bundled backtest name (``soybeans_retaliation``) or a path to a YAML file."""
    return resolve_yaml(name_or_path, backtests_dir(), "backtest spec")


def load_rule(name_or_path: str) -> BacktestRule:
    """Load and validate a backtest spec by bundled name (``backtests/*.yaml``) or path."""
    path = resolve_rule_path(name_or_path)
    return rule_from_dict(read_yaml(path), str(path))
