"""``impact events list|show|validate|align`` run in-process on the bundled catalog."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from impact.cli.main import main
from impact.events.assets import registry

ROOT = Path(__file__).resolve().parents[1]


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_ok_and_every_problem_one_per_line(capsys, tmp_path):
    code, out, _ = _run(capsys, "events", "validate", str(ROOT / "events" / "us_china_trade_policy.csv"))
    assert (code, out) == (0, "OK: 80 events\n")
    code, out, _ = _run(capsys, "events", "validate", str(ROOT / "events" / "example_catalog.yaml"))
    assert (code, out) == (0, "OK: 3 events\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,date,timezone,actor,kind,direction,title,source,confidence\n"
                   "a,2025-02-29,America/New_York,US,tariff,escalation,t,s,high\n"
                   "a,2025-03-01,Nowhere/City,US,tariff,escalation,t,,high\n")
    code, out, err = _run(capsys, "events", "validate", str(bad))
    assert code == 2
    assert out.splitlines() == [
        f"{bad}: line 2 (a): field 'date': '2025-02-29' does not exist",
        f"{bad}: line 3 (a): field 'source': empty",
        f"{bad}: line 3 (a): field 'event_id': duplicate id (first at {bad}: line 2)",
        f"{bad}: line 3 (a): field 'timezone': unknown IANA time zone 'Nowhere/City'",
    ]
    assert "4 problem(s)" in err
    example = str(ROOT / "events" / "example_catalog.yaml")
    code, out, _ = _run(capsys, "events", "validate", example, example)
    assert (code, out) == (2, "".join(f"duplicate event id {i!r} across merged catalogs\n"
                                      for i in ("EX-2018-03", "EX-2025-21", "EX-2025-22")))


def test_list_filters(capsys):
    code, out, _ = _run(capsys, "events", "list", "--start", "2025-01-01", "--actor", "China", "--format", "csv")
    frame = pd.read_csv(io.StringIO(out))
    assert code == 0 and len(frame) == 7 and set(frame["actor"]) == {"China"}
    code, out, _ = _run(capsys, "events", "list", "--kind", "truce", "--direction", "de-escalation")
    assert code == 0 and out.rstrip().endswith("14 events")
    code, _, err = _run(capsys, "events", "list", "--kind", "sanction")
    assert code == 2 and "filter kind: unknown value(s) 'sanction'" in err


def test_show_prints_day0_for_every_bundled_asset(capsys):
    code, out, _ = _run(capsys, "events", "show", "USCN-2025-21")
    assert code == 0
    assert "MOFCOM widens rare-earth controls" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in registry().index}
    assert set(rows) == set(registry().index)
    # Beijing morning of Thu 9 Oct = Wed evening in New York (after_close class).
    assert "2025-10-09 Thu" in rows["SPY"] and "(rule: timing_class:after_close)" in out
    assert rows["SPY"].split()[8] == "overnight"       # Wednesday evening in New York: before Thursday's open
    assert "2025-10-09 Thu" in rows["000001_SS"]
    assert "13:15 CDT" in rows["ZS_F"]
    assert "\nDEXCHUS: no bundled price: series ends 2025-09-26" in out  # FRED copy stops before October
    assert "SPY: " not in out
    assert max(len(line) for line in out.split("or trading.\n")[1].splitlines()) <= 100
    code, _, err = _run(capsys, "events", "show", "NOPE")
    assert code == 2 and "no event with id 'NOPE'" in err


def test_show_places_the_news_on_each_assets_clock(capsys):
    """Issue 14: the 10:57 ET post falls in New York's trading part; the futures' open is the
    Globex evening open the day before; Hong Kong first sees it in Monday's gap."""
    code, out, _ = _run(capsys, "events", "show", "USCN-2025-22", "--assets", "SPY,ZS_F,HSI,VIX")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["SPY"], ["ZS_F"],
                                                                                              ["HSI"], ["VIX"])}
    assert rows["SPY"][2:8] == ["2025-10-10", "Fri", "09:30", "EDT", "16:00", "EDT"] and rows["SPY"][8] == "trading"
    assert rows["ZS_F"][4:7] == ["Thu", "19:00", "CDT"] and rows["ZS_F"][9] == "trading"
    assert rows["HSI"][2:3] == ["2025-10-13"] and rows["HSI"][8] == "overnight"
    assert rows["VIX"][4] == "-"   # no usable open (registry open_time none)


def test_align_csv_one_row_per_event_and_asset(capsys):
    code, out, _ = _run(capsys, "events", "align", "--assets", "SPY,ZS_F,000001_SS", "--format", "csv")
    frame = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert code == 0 and len(frame) == 80 * 3
    assert list(frame.columns[:5]) == ["event_id", "asset", "day0", "rule", "flags"]
    day0 = frame.set_index(["event_id", "asset"])["day0"]
    assert day0[("USCN-2025-21", "SPY")] == "2025-10-09"
    assert day0[("USCN-2019-10", "SPY")] == "2019-08-06"      # Treasury, Monday after the close
    code, out, _ = _run(capsys, "events", "align", "--ids", "USCN-2025-20,USCN-2025-21", "--assets", "SPY",
                        "--window=-5,5")
    flags = pd.read_csv(io.StringIO(out), keep_default_na=False).set_index("event_id")["flags"]
    assert flags["USCN-2025-21"] == "overlap:USCN-2025-20@-8"
    code, _, err = _run(capsys, "events", "align", "--catalog", "missing.yaml")
    assert code == 2 and "missing.yaml: catalog file not found" in err


def test_events_list_fits_100_columns_and_wide_shows_full_titles(capsys):
    """Issue 13 snapshot: the human table fits 100 columns, left-aligned, titles cut with an
    ellipsis; --wide prints them in full."""
    assert main(["events", "list", "--start", "2025-10-09", "--end", "2025-10-12"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["event_id", "when", "(local)", "actor", "kind", "direction", "title"]
    assert lines[2].startswith("USCN-2025-22  2025-10-10 10:57 New_York  US     statement       escalation")
    assert max(len(line) for line in lines) <= 100 and lines[2].endswith("\u2026")
    assert lines[-1] == "4 events"
    assert main(["events", "list", "--start", "2025-10-09", "--end", "2025-10-12", "--wide"]) == 0
    wide = capsys.readouterr().out
    assert "Trump post attacks the rare-earth curbs, threatens 'massive' tariff rise, doubts Xi meeting" in wide
