"""`impact report/study --quiet` and the progress bars: shown only on a terminal."""
from __future__ import annotations

import io
import sys

import pandas as pd
import pytest

from impact import EventStudy, datasets, load_catalog, progress
from impact.backtest import load_rule, run_backtest
from impact.backtest.result import ordinal
from impact.cli.main import main


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _loud_again():
    yield
    progress.set_quiet(False)


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    assert list(progress.progress(range(5), desc="work")) == [0, 1, 2, 3, 4]
    assert stream.getvalue() == ""


def test_bar_on_a_terminal_and_silenced_by_quiet(monkeypatch):
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    assert list(progress.progress(range(5), desc="figures")) == [0, 1, 2, 3, 4]
    assert "figures:" in stream.getvalue() and "0/5" in stream.getvalue()  # a bar was drawn (then cleared)

    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    progress.set_quiet(True)
    assert list(progress.progress(range(5), desc="figures")) == [0, 1, 2, 3, 4]
    with progress.steps(3, "steps") as bar:
        bar.update(3)
    assert quiet.getvalue() == ""


def test_report_quiet_flag(tmp_path, capsys):
    from test_report import hostile_report

    spec = hostile_report().parent.parent / "hostile.yaml"
    assert main(["report", str(spec), "--out", str(tmp_path), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"report written to {tmp_path / 'hostile' / 'index.html'}"
    assert captured.err == ""
    assert progress.is_quiet()
    assert (tmp_path / "hostile" / "figures" / "price_SOXX.svg").is_file()


def test_report_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: Bad\nassets: [NOPE]\n", encoding="utf-8")
    assert main(["report", str(bad), "--out", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("impact: error:") and "NOPE" in err and "\n" not in err
    assert not (tmp_path / "bad").exists()
    bad.write_text("name: bad\ntitle: Bad\nassets: [SOXX]\ngrouping: [colour]\n", encoding="utf-8")
    assert main(["study", str(bad), "--quiet"]) == 2
    assert "field 'grouping'" in capsys.readouterr().err


def test_report_with_no_estimable_pair_is_a_one_line_error(tmp_path, capsys):
    spec = tmp_path / "none.yaml"
    spec.write_text("name: none\ntitle: None\nassets: [MP]\nfilters: {ids: [USCN-2026-01]}\n"
                    "estimation_window: [-5000, -11]\n", encoding="utf-8")  # MP has ~1,400 sessions
    assert main(["report", str(spec), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no asset-event pair could be estimated" in err and "too few estimation observations" in err
    assert not (tmp_path / "out" / "none").exists()


def test_study_cli_shows_each_session_once_with_the_sign_aligned_caar(capsys):
    """Issues 10 and 13: `impact study` reads like the report — bundles, not the same move
    under two ids; the sign-aligned CAAR by direction; labelled extremes; % in tables."""
    assert main(["study", "rare_earths_2025"]) == 0
    out = capsys.readouterr().out
    assert "USCN-2025-23+USCN-2025-24 VIX" in out and "USCN-2025-23   VIX" not in out
    assert "sign-aligned CAAR[0, 0] escalation: -2.20%" in out and "(46/51 as hypothesised)" in out
    assert "Largest CARs [0, 0] (5 most negative, then 5 most positive):" in out
    assert "benchmark: GSPC\n" in out                      # not a dict of 18 entries
    by_asset = out.split("by asset (signed, one asset per row)\n")[1]
    assert "%" in by_asset.splitlines()[1]
    assert main(["study", "rare_earths_2025", "--format", "csv"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert not {"USCN-2025-23", "USCN-2025-24"} & set(rows["event_id"])


def test_backtest_and_study_speak_plainly(capsys):
    """Issue 13: a percentile is not a P&L, and the objects have short reprs."""
    assert [ordinal(v) for v in (1, 2, 3, 4, 11, 12, 13, 21, 22.1, 99.6, 100)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "100th", "100th"]
    assert main(["backtest", "soybeans_retaliation"]) == 0
    out = capsys.readouterr().out
    assert "the real mean return sits at the 27th percentile of the placebo runs (its total P&L at the 30th)" in out
    assert "(total P&L: 27" not in out
    # trades in percent like the summary (csv keeps decimals)
    assert "USCN-2018-04  ZS_F   short  2018-03-23  2018-04-02  -0.71%  +0.10%  -0.81%  -0.81%" in out
    result = run_backtest(load_rule("soybeans_retaliation"))
    assert repr(result) == ("BacktestResult('soybeans_retaliation', trades=11, skipped=2, mean_return=-0.0069, "
                            "total_pnl=-0.0756, placebo_runs=1000)")
    study = EventStudy(datasets.load_prices(["GSPC", "SPY"]), load_catalog(), assets=["SPY"])
    assert repr(study) == ("EventStudy(model='market', events=80, assets=1, estimation_window=(-260, -11), "
                           "event_window=(-5, 5), returns='log')")


@pytest.mark.parametrize("argv", [["backtest", "soybeans_retaliation", "--quiet"], ["data", "list", "--quiet"],
                                  ["study", "rare_earths_2025", "-q"]])
def test_quiet_is_accepted_by_every_command_group(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    progress.set_quiet(False)
    assert main(argv) == 0
    assert progress.is_quiet() and capsys.readouterr().err == ""
    progress.set_quiet(False)


@pytest.mark.parametrize("argv", [["study", "rare_earths_2025", "-q"], ["backtest", "soybeans_retaliation", "-q"],
                                  ["backtest", "escalation_pairs", "-q"], ["backtest", "learned_signs", "-q"]])
def test_human_output_fits_100_columns(argv, capsys):
    """Issue 13: the human tables of `impact study` and `impact backtest` fit 100 columns
    (the placebo line and notes are wrapped; a sized backtest shows its weight column)."""
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all(line == line.rstrip() for line in lines)
    if argv[1] == "escalation_pairs":
        header = next(line for line in lines if line.startswith("event_id"))
        assert header.split() == ["event_id", "asset", "side", "entry_date", "exit_date", "gross", "cost", "net",
                                  "weight", "cum.", "P&L"]
