"""`impact report/study --quiet` and the progress bars: shown only on a terminal."""
from __future__ import annotations

import io
import sys

import pytest

from impact import progress
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
