"""Event catalogs: loading, validation and filtering.

A catalog is a table of announcements, one row per event, with the local date,
optional local time and IANA zone of the announcement, who made it (``actor``),
what it was (``kind``), which way it moved trade tension (``direction``), a title,
sources and a confidence grade. ``us_timing`` classes the instant against NYSE
hours and is used when the time of day is unknown. CSV and YAML files share one
schema; validation reports every problem at once, with file, line and field.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pandas as pd
import yaml

from ..errors import CatalogError
from ..resources import default_catalog_path, events_dir

ACTORS = ("US", "China", "both")
KINDS = (
    "tariff", "export_control", "entity_list", "retaliation", "truce", "talks",
    "statement", "currency", "other",
)
DIRECTIONS = ("escalation", "de-escalation", "neutral")
CONFIDENCE = ("high", "medium", "low")
TIMING_CLASSES = ("pre_open", "intraday", "after_close", "weekend", "holiday", "unknown")

REQUIRED = ("event_id", "date", "timezone", "actor", "kind", "direction", "title", "source", "confidence")
COLUMNS = (
    "event_id", "date", "time_local", "timezone", "actor", "kind", "direction", "title",
    "source", "confidence", "us_timing", "notes", "tags", "hours",
)
#: Accepted alternative column names -> canonical name.
ALIASES = {"id": "event_id", "time": "time_local", "tz": "timezone", "sources": "source",
           "timing": "us_timing", "timing_class": "us_timing"}

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
#: ``hours``: the issuer's working hours in its zone, for an announcement of unknown time of day.
_HOURS = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Catalog:
    """A validated event catalog.

    ``events`` is a DataFrame with the columns in :data:`COLUMNS` (``date`` as
    datetime64, ``tags`` as a tuple of strings) indexed 0..n-1; ``sources`` names
    the file(s) it came from.
    """

    events: pd.DataFrame
    sources: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        span = ""
        if len(self.events):
            span = f", {self.events['date'].min():%Y-%m-%d} to {self.events['date'].max():%Y-%m-%d}"
        return f"Catalog({len(self.events)} events{span}; from {', '.join(self.sources) or 'memory'})"

    def _repr_html_(self) -> str:
        cols = ["event_id", "date", "time_local", "timezone", "actor", "kind", "direction", "title"]
        return f"<p>{repr(self).replace('<', '&lt;')}</p>" + self.events[cols].to_html(index=False)

    def filter(
        self,
        start: str | Date | None = None,
        end: str | Date | None = None,
        actor: str | Iterable[str] | None = None,
        kind: str | Iterable[str] | None = None,
        direction: str | Iterable[str] | None = None,
        confidence: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        ids: str | Iterable[str] | None = None,
    ) -> Catalog:
        """Events on or after ``start`` and on or before ``end`` (local dates) whose
        fields take one of the given values; ``tags`` keeps events carrying any tag."""
        ev = self.events
        keep = pd.Series(True, index=ev.index)
        for column, wanted, allowed in (("actor", actor, ACTORS), ("kind", kind, KINDS),
                                        ("direction", direction, DIRECTIONS), ("confidence", confidence, CONFIDENCE)):
            unknown = [w for w in _as_list(wanted)] if wanted is not None else []
            unknown = [w for w in unknown if w not in allowed]
            if unknown:
                raise CatalogError([f"filter {column}: unknown value(s) {', '.join(map(repr, unknown))} "
                                    f"(allowed: {', '.join(allowed)})"])
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                try:
                    pd.Timestamp(value)
                except (ValueError, TypeError):
                    raise CatalogError([f"filter {name}: {value!r} is not a date (YYYY-MM-DD)"]) from None
        if start is not None:
            keep &= ev["date"] >= pd.Timestamp(start)
        if end is not None:
            keep &= ev["date"] <= pd.Timestamp(end)
        for column, wanted in (("actor", actor), ("kind", kind), ("direction", direction),
                               ("confidence", confidence), ("event_id", ids)):
            if wanted is not None:
                keep &= ev[column].isin(_as_list(wanted))
        if tags is not None:
            wanted_tags = set(_as_list(tags))
            keep &= ev["tags"].map(lambda t: bool(wanted_tags.intersection(t)))
        return Catalog(ev[keep].reset_index(drop=True), self.sources)

    def get(self, event_id: str) -> pd.Series:
        match = self.events[self.events["event_id"] == event_id]
        if match.empty:
            raise CatalogError([f"no event with id {event_id!r} in {', '.join(self.sources) or 'the catalog'}"])
        return match.iloc[0]


def _as_list(value: str | Iterable[str]) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):  # YAML lists of sources
        return " ; ".join(_clean(v) for v in value if _clean(v))
    if isinstance(value, float) and pd.isna(value):
        return ""
    return str(value).strip()


class _CatalogLoader(yaml.SafeLoader):
    """safe_load without implicit timestamps: dates stay strings, so an impossible
    date such as 2025-02-30 is reported for its event instead of failing the file."""


_CatalogLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    try:
        data = yaml.load(text, Loader=_CatalogLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=_CatalogLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}: line {mark.line + 1}" if mark is not None else str(path)
        raise CatalogError([f"{where}: not valid YAML: {getattr(exc, 'problem', None) or str(exc).splitlines()[0]}"]) from None
    items_node = root
    if isinstance(data, Mapping):
        data = data.get("events")
        items_node = next((v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "events"), None)
    if not isinstance(data, list):
        raise CatalogError([f"{path}: expected a list of events (or a mapping with key 'events')"])
    rows, problems = [], []
    for i, item in enumerate(data):
        node = items_node.value[i] if items_node is not None and i < len(items_node.value) else None
        where = f"{path}: line {node.start_mark.line + 1}" if node is not None else f"{path}: event #{i + 1}"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected a mapping of fields, got {type(item).__name__}")
            continue
        rows.append((where, _flatten_instant(dict(item))))
    if problems:
        raise _PartialRows(rows, problems)
    return rows


class _PartialRows(Exception):
    """Rows that could be read, plus problems found while reading the others."""

    def __init__(self, rows, problems):
        super().__init__(problems)
        self.rows, self.problems = rows, problems


def _flatten_instant(item: dict) -> dict:
    """YAML ``instant: {date, time, timezone}`` (or ``instant: "YYYY-MM-DD[ HH:MM]"``)
    is the same as the flat ``date``/``time_local``/``timezone`` fields."""
    instant = item.pop("instant", None)
    if isinstance(instant, Mapping):
        for key, value in instant.items():
            item.setdefault(ALIASES.get(str(key), str(key)), value)
    elif instant is not None:
        day, _, clock = str(instant).strip().replace("T", " ").partition(" ")
        item.setdefault("date", day)
        if clock:
            item.setdefault("time_local", clock)
    return item


def _read_rows(path: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    """(location, raw row) pairs from a CSV or YAML file, and problems met reading it."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # Latin-1 / Windows exports: name the spot, not a traceback
        line = raw[:exc.start].count(b"\n") + 1
        raise CatalogError([f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                            "save the file as UTF-8"]) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return _yaml_rows(path, text), []
        except _PartialRows as partial:
            return partial.rows, partial.problems
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise CatalogError([f"{path}: empty file (no header row)"])
    rows, problems = [], []
    start_line = 2
    for record in reader:
        where = f"{path}: line {start_line}"
        if None in record:
            problems.append(f"{where}: {len(record[None])} more field(s) than the header has columns")
        rows.append((where, dict(record)))
        start_line = reader.line_num + 1
    return rows, problems


def validate_rows(rows: list[tuple[str, dict]], source: str = "<memory>") -> tuple[pd.DataFrame, list[str]]:
    """Check raw rows against the schema; return the clean frame and every problem."""
    problems: list[str] = []
    records = []
    seen: dict[str, str] = {}
    zones = available_timezones()
    for location, raw in rows:
        row = {ALIASES.get(_clean(k), _clean(k)): v for k, v in raw.items() if k is not None}
        rec: dict[str, Any] = {c: _clean(row.get(c)) for c in COLUMNS if c != "tags"}
        eid = rec["event_id"]
        where = f"{location} ({eid})" if eid else location

        def bad(column: str, message: str, where: str = where) -> None:
            problems.append(f"{where}: field '{column}': {message}")

        for column in REQUIRED:
            if column == "timezone" and rec["time_local"] and not rec["timezone"]:
                continue  # reported below as a time without a zone
            if column not in row:
                bad(column, "missing")
            elif not rec[column]:
                bad(column, "empty")
        if eid:
            if eid in seen:
                bad("event_id", f"duplicate id (first at {seen[eid]})")
            else:
                seen[eid] = location
        day = None
        if rec["date"]:
            raw_date = row.get("date")
            if isinstance(raw_date, Date):  # YAML parses unquoted dates itself
                day = pd.Timestamp(raw_date)
            elif not _DATE.match(rec["date"]):
                bad("date", f"'{rec['date']}' is not a date in YYYY-MM-DD form")
            else:
                try:
                    day = pd.Timestamp(Date.fromisoformat(rec["date"]))
                except ValueError:
                    bad("date", f"'{rec['date']}' does not exist")
        if rec["time_local"]:
            if isinstance(row.get("time_local"), int):  # YAML reads 10:00 as sexagesimal 600
                minutes = row["time_local"]
                rec["time_local"] = f"{minutes // 60:02d}:{minutes % 60:02d}"
            if not _TIME.match(rec["time_local"]):
                bad("time_local", f"'{rec['time_local']}' is not a 24-hour HH:MM time")
            elif not rec["timezone"]:
                bad("timezone", "a time of day is given without a time zone")
        if rec["hours"] and (not _HOURS.match(rec["hours"]) or rec["hours"][:5] >= rec["hours"][6:]):
            bad("hours", f"'{rec['hours']}' is not a working-hours range HH:MM-HH:MM (e.g. 09:00-18:00)")
        if rec["timezone"] and rec["timezone"] not in zones:
            bad("timezone", f"unknown IANA time zone '{rec['timezone']}'")
        for column, allowed in (("actor", ACTORS), ("kind", KINDS), ("direction", DIRECTIONS),
                                ("confidence", CONFIDENCE)):
            if rec[column] and rec[column] not in allowed:
                bad(column, f"unknown value '{rec[column]}' (allowed: {', '.join(allowed)})")
        if rec["us_timing"] and rec["us_timing"] not in TIMING_CLASSES:
            bad("us_timing", f"unknown timing class '{rec['us_timing']}' (allowed: {', '.join(TIMING_CLASSES)})")
        if "source" in row and rec["source"] and not [s for s in rec["source"].split(";") if s.strip()]:
            bad("source", "no source given")
        tags = row.get("tags")
        if isinstance(tags, str):
            tags = [t.strip() for t in re.split(r"[;,]", tags) if t.strip()]
        elif tags is None or (isinstance(tags, float) and pd.isna(tags)):
            tags = []
        elif not isinstance(tags, (list, tuple)):  # a tuple: a Catalog's own frame, passed back in
            bad("tags", "expected a list of strings or a ';'-separated string")
            tags = []
        rec["tags"] = tuple(str(t) for t in tags)
        rec["date"] = day
        rec["us_timing"] = rec["us_timing"] or "unknown"
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    if not frame.empty:
        frame["date"] = pd.to_datetime(frame["date"])
    return frame, problems


def resolve_catalog(name_or_path: str | Path, relative_to: str | None = None) -> Path:
    """A bundled catalog name (``us_china_trade_policy``) or a path; a relative path that
    does not exist from the working directory is tried beside ``relative_to`` (the spec
    file that names it)."""
    path = Path(name_or_path)
    if not path.suffix:
        return events_dir() / f"{name_or_path}.csv"
    if not path.is_absolute() and not path.exists() and relative_to not in (None, "<memory>"):
        return Path(relative_to).parent / path
    return path


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog (CSV or YAML). ``None`` loads the bundled US-China catalog.

    Raises :class:`CatalogError` listing every problem (file, line, event id, field).
    """
    path = Path(path) if path is not None else default_catalog_path()
    if not path.is_file():
        raise CatalogError([f"{path}: catalog file not found"])
    rows, read_problems = _read_rows(path)
    frame, problems = validate_rows(rows, str(path))
    problems = read_problems + problems
    if problems:
        raise CatalogError(problems)
    return Catalog(frame, (str(path),))


def load_catalogs(*paths: str | Path) -> Catalog:
    """Load several catalogs and merge them (ids must stay unique). Problems in all
    files are reported together."""
    catalogs, problems = [], []
    for path in paths:
        try:
            catalogs.append(load_catalog(path))
        except CatalogError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CatalogError(problems)
    return merge_catalogs(*catalogs)


def catalog_from_frame(frame: pd.DataFrame, source: str = "<DataFrame>") -> Catalog:
    """Validate an in-memory table with the catalog columns."""
    rows = [(f"{source}: row {i}", rec) for i, rec in enumerate(frame.to_dict("records"))]
    clean, problems = validate_rows(rows, source)
    if problems:
        raise CatalogError(problems)
    return Catalog(clean, (source,))


def merge_catalogs(*catalogs: Catalog) -> Catalog:
    """Concatenate catalogs; event ids must stay unique."""
    events = pd.concat([c.events for c in catalogs], ignore_index=True)
    dupes = events["event_id"][events["event_id"].duplicated()].unique()
    if len(dupes):
        raise CatalogError([f"duplicate event id {d!r} across merged catalogs" for d in dupes])
    sources = tuple(s for c in catalogs for s in c.sources)
    return Catalog(events.sort_values(["date", "event_id"], ignore_index=True), sources)


def instants_from_frame(frame: pd.DataFrame, column: str = "instant") -> pd.Series:
    """The UTC instants of an events frame's ``column`` (tz-aware, indexed like ``frame``).

    As in catalogs, a time without a zone is refused (it would silently be read as
    UTC, shifting a New York 16:00 announcement by four or five hours); so are empty
    and unparseable cells. Offsets may differ row by row (a DST change).
    """
    if column not in frame.columns:
        raise CatalogError([f"events frame: no column '{column}'"])
    ids = frame["event_id"].astype(str) if "event_id" in frame.columns else pd.Series(frame.index, index=frame.index)
    values = frame[column]
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.as_unit("ns")
    out = []
    for i, (value, eid) in enumerate(zip(values, ids)):
        where = f"events frame: column '{column}', row {i} (event {eid})"
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            raise CatalogError([f"{where}: empty; give a tz-aware timestamp"])
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise CatalogError([f"{where}: {value!r} is not a timestamp; give ISO 8601 with an offset, "
                                "e.g. 2025-04-02T16:00-04:00"]) from None
        if stamp.tzinfo is None:
            raise CatalogError([f"events frame: column '{column}' has no time zone (row {i}, event {eid}: "
                                f"{value!s}); give tz-aware timestamps or date+timezone columns"])
        out.append(stamp.tz_convert("UTC"))
    return pd.Series(pd.DatetimeIndex(out, tz="UTC").as_unit("ns"), index=frame.index, name=column)
