"""Event catalogs: schema validation (every problem at once, with locations), YAML and
CSV loading, merging and filtering, on the bundled real catalog and small bad files."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from impact.errors import CatalogError
from impact.events.catalog import catalog_from_frame, load_catalog, load_catalogs, merge_catalogs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_YAML = ROOT / "events" / "example_catalog.yaml"

HEADER = "event_id,date,time_local,timezone,actor,kind,direction,title,source,confidence,us_timing,notes\n"
# One defect per row (line numbers: header is line 1). Fictitious rows, for validation only.
BAD_CSV_ROWS = [
    ("E1,2025-02-30,,America/New_York,US,tariff,escalation,Impossible date,https://example.org/a,high,intraday,",
     "date", "does not exist"),
    ("E2,2025/03/01,,America/New_York,US,tariff,escalation,Bad date form,https://example.org/b,high,intraday,",
     "date", "not a date in YYYY-MM-DD form"),
    ("E3,2025-03-02,10:00,,US,tariff,escalation,Time without zone,https://example.org/c,high,,",
     "timezone", "without a time zone"),
    ("E4,2025-03-03,25:00,America/New_York,US,tariff,escalation,Bad time,https://example.org/d,high,,",
     "time_local", "not a 24-hour HH:MM time"),
    ("E5,2025-03-04,,Mars/Olympus,US,tariff,escalation,Unknown zone,https://example.org/e,high,pre_open,",
     "timezone", "unknown IANA time zone 'Mars/Olympus'"),
    ("E6,2025-03-05,,America/New_York,USA,tariff,escalation,Unknown actor,https://example.org/f,high,pre_open,",
     "actor", "unknown value 'USA'"),
    ("E7,2025-03-06,,America/New_York,US,sanction,escalation,Unknown kind,https://example.org/g,high,pre_open,",
     "kind", "unknown value 'sanction'"),
    ("E8,2025-03-07,,America/New_York,US,tariff,up,Unknown direction,https://example.org/h,high,pre_open,",
     "direction", "unknown value 'up'"),
    ("E9,2025-03-08,,America/New_York,US,tariff,escalation,Unknown confidence,https://example.org/i,certain,pre_open,",
     "confidence", "unknown value 'certain'"),
    ("E10,2025-03-09,,America/New_York,US,tariff,escalation,Unknown timing,https://example.org/j,high,lunchtime,",
     "us_timing", "unknown timing class 'lunchtime'"),
    ("E11,2025-03-10,,America/New_York,US,tariff,escalation,Empty sources, ; ,high,pre_open,",
     "source", "no source given"),
    ("E12,2025-03-11,,America/New_York,US,tariff,escalation,,https://example.org/k,high,pre_open,",
     "title", "empty"),
    ("E1,2025-03-12,,America/New_York,US,tariff,escalation,Duplicate id,https://example.org/l,high,pre_open,",
     "event_id", "duplicate id (first at"),
    ("E13,2025-03-13,,America/New_York,US,tariff,escalation,Extra field,https://example.org/m,high,pre_open,,oops",
     None, "more field(s) than the header has columns"),
]


def _problems(path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return info.value.problems


def test_csv_reports_every_defect_at_once_with_line_id_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n".join(r for r, _, _ in BAD_CSV_ROWS) + "\n")
    problems = _problems(path)
    assert len(problems) == len(BAD_CSV_ROWS) == 14
    for line, (row, field, message) in enumerate(BAD_CSV_ROWS, start=2):
        eid = row.split(",")[0]
        hits = [p for p in problems if p.startswith(f"{path}: line {line} ({eid})") or
                (field is None and p.startswith(f"{path}: line {line}:"))]
        assert len(hits) == 1, (line, problems)
        assert message in hits[0]
        if field:
            assert f"field '{field}'" in hits[0]


BAD_YAML = """\
events:
  - id: Y1
    instant: {date: "2025-02-30", timezone: America/New_York}
    actor: US
    kind: tariff
    direction: escalation
    title: Impossible date
    sources: [https://example.org/a]
    confidence: high
  - id: Y2
    date: 2025-02-31
    time: "09:15"
    actor: US
    kind: tariff
    direction: escalation
    title: Unquoted impossible date and a time without zone
    sources: [https://example.org/b]
    confidence: high
  - id: Y3
    instant: {date: "2025-03-03", time: "7:5", timezone: Europe/Nowhere}
    actor: EU
    kind: quota
    direction: sideways
    title: Bad time, zone and three enumerations
    sources: []
    confidence: sure
    timing: teatime
  - just a string
  - id: Y1
    date: "2025-03-04"
    timezone: Asia/Shanghai
    actor: China
    kind: retaliation
    direction: escalation
    sources: [https://example.org/c]
    confidence: high
"""


def test_yaml_reports_every_defect_at_once_with_line_numbers(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML)
    problems = _problems(path)
    expected = [
        ("line 2 (Y1)", "date", "'2025-02-30' does not exist"),
        ("line 10 (Y2)", "date", "'2025-02-31' does not exist"),
        ("line 10 (Y2)", "timezone", "without a time zone"),
        ("line 19 (Y3)", "time_local", "'7:5' is not a 24-hour HH:MM time"),
        ("line 19 (Y3)", "timezone", "unknown IANA time zone 'Europe/Nowhere'"),
        ("line 19 (Y3)", "actor", "unknown value 'EU'"),
        ("line 19 (Y3)", "kind", "unknown value 'quota'"),
        ("line 19 (Y3)", "direction", "unknown value 'sideways'"),
        ("line 19 (Y3)", "source", "empty"),
        ("line 19 (Y3)", "confidence", "unknown value 'sure'"),
        ("line 19 (Y3)", "us_timing", "unknown timing class 'teatime'"),
        ("line 29 (Y1)", "event_id", "duplicate id"),
        ("line 29 (Y1)", "title", "missing"),
    ]
    for where, field, message in expected:
        hits = [p for p in problems if p.startswith(f"{path}: {where}: field '{field}': ")]
        assert len(hits) == 1, (where, field, problems)
        assert message in hits[0]
    assert [p for p in problems if p == f"{path}: line 28: expected a mapping of fields, got str"]
    assert len(problems) == len(expected) + 1


def test_unparseable_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("events:\n  - id: A\n    title: [unclosed\n")
    problems = _problems(path)
    assert len(problems) == 1 and re.match(rf"{re.escape(str(path))}: line \d+: not valid YAML", problems[0])


def test_yaml_example_matches_the_bundled_csv_rows():
    example = load_catalog(EXAMPLE_YAML).events.set_index("event_id")
    bundled = load_catalog().events.set_index("event_id")
    assert list(example.index) == ["EX-2018-03", "EX-2025-21", "EX-2025-22"]
    for ex_id, csv_id in (("EX-2018-03", "USCN-2018-03"), ("EX-2025-21", "USCN-2025-21"), ("EX-2025-22", "USCN-2025-22")):
        for column in ("date", "time_local", "timezone", "actor", "kind", "direction", "confidence", "us_timing"):
            assert example.loc[ex_id, column] == bundled.loc[csv_id, column], (ex_id, column)
    assert example.loc["EX-2018-03", "source"] == bundled.loc["USCN-2018-03", "source"]  # list == ' ; '-joined
    assert example.loc["EX-2025-21", "tags"] == ("rare_earths", "example")


def test_bundled_catalog_counts_match_its_readme(catalog):
    ev = catalog.events
    assert len(catalog) == 80
    assert ev["event_id"].is_unique
    assert ev["kind"].value_counts().to_dict() == {
        "tariff": 28, "truce": 14, "retaliation": 13, "export_control": 9, "statement": 6,
        "entity_list": 3, "talks": 3, "currency": 2, "other": 2}
    assert ev["direction"].value_counts().to_dict() == {"escalation": 57, "de-escalation": 23}
    assert ev["confidence"].value_counts().to_dict() == {"high": 67, "medium": 13}
    assert ev["date"].dt.year.value_counts().sort_index().to_dict() == {
        2018: 23, 2019: 18, 2020: 2, 2022: 1, 2023: 2, 2024: 3, 2025: 30, 2026: 1}


def test_filters_by_date_actor_kind_direction_confidence_tags(catalog):
    assert len(catalog.filter(start="2025-01-01")) == 31
    assert len(catalog.filter(start="2019-01-01", end="2019-12-31")) == 18
    china_2025 = catalog.filter(start="2025-01-01", actor="China")
    assert len(china_2025) == 7 and set(china_2025.events["actor"]) == {"China"}
    assert len(catalog.filter(kind="tariff,retaliation")) == 41
    assert len(catalog.filter(kind=["truce"], direction="de-escalation")) == len(
        catalog.events[(catalog.events["kind"] == "truce") & (catalog.events["direction"] == "de-escalation")])
    assert len(catalog.filter(confidence="medium")) == 13
    merged = merge_catalogs(catalog, load_catalog(EXAMPLE_YAML))
    assert len(merged.filter(tags="rare_earths")) == 2
    assert len(merged.filter(tags=["section301", "nothing"])) == 1
    with pytest.raises(CatalogError, match="filter actor: unknown value"):
        catalog.filter(actor="USA")
    with pytest.raises(CatalogError, match="filter start"):
        catalog.filter(start="not a date")


def test_merge_and_load_several(tmp_path):
    both = load_catalogs(load_catalog().sources[0], EXAMPLE_YAML)
    assert len(both) == 83
    assert both.events["date"].is_monotonic_increasing
    with pytest.raises(CatalogError, match="duplicate event id 'EX-2018-03'"):
        merge_catalogs(load_catalog(EXAMPLE_YAML), load_catalog(EXAMPLE_YAML))
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + BAD_CSV_ROWS[0][0] + "\n")
    with pytest.raises(CatalogError) as info:
        load_catalogs(bad, tmp_path / "missing.yaml")
    assert len(info.value.problems) == 2  # problems of both files together
    assert "catalog file not found" in info.value.problems[1]


def test_catalog_from_frame_validates_in_memory_rows():
    frame = pd.DataFrame({"event_id": ["a", "b"], "date": ["2025-04-02", "2025-13-01"], "timezone": "America/New_York",
                          "time_local": ["16:00", ""], "actor": "US", "kind": "tariff", "direction": "escalation",
                          "title": "t", "source": "s", "confidence": "high"})
    with pytest.raises(CatalogError) as info:
        catalog_from_frame(frame)
    assert info.value.problems == ["<DataFrame>: row 1 (b): field 'date': '2025-13-01' does not exist"]
    ok = catalog_from_frame(frame.iloc[:1])
    assert ok.events.loc[0, "date"] == pd.Timestamp("2025-04-02") and ok.events.loc[0, "us_timing"] == "unknown"
