"""Issue 11, output side: bad outputs and interrupts give one line (exit 2 or 130/143),
never a traceback, a lost report or a half-written one. One table row per case."""
from __future__ import annotations

import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import impact.data.yahoo
import impact.report.build
import impact.report.figures
from impact import EventStudy, csvsafe
from impact.atomic import MARKER, Leftover, parse_leftover, recover, recovery_plan
from impact.backtest import BacktestResult
from impact.cli.main import main
from impact.data.cache import PriceCache
from impact.data.sources import FrameSource
from impact.report.build import _Writer, run_spec
from impact.report.spec import load_spec
from impact.study.result import EventStudyResult

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"name": "rep", "title": "Old", "catalog": "us_china_trade_policy",
         "filters": {"start": "2025-10-09", "end": "2025-10-14"}, "assets": ["SOXX", "ZS_F"],
         "benchmark": "GSPC", "car_windows": [[0, 0]], "grouping": ["direction"], "placebo": {"draws": 20, "seed": 1}}
SMALL_BACKTEST = {"name": "bt", "catalog": "us_china_trade_policy", "events": {"actor": "China", "kind": "retaliation"},
                  "assets": ["ZS_F"], "signs": {"escalation": "short"}, "holding": 5, "placebo": {"runs": 5, "seed": 1}}


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_result(tmp_path_factory):
    """The fitted small study; in-process cases reuse it (they break the writing, not the study)."""
    return run_spec(load_spec(str(write_yaml(tmp_path_factory.mktemp("spec") / "rep.yaml", SMALL))))


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def report_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cache_files(folder: Path) -> dict[str, bytes]:
    return {k: v for k, v in report_files(folder).items() if not k.endswith(".lock")} if folder.is_dir() else {}


@pytest.fixture
def old_report(tmp_path, monkeypatch, small_result):
    """``tmp/out/rep``: a complete previous report (title "Old"); the study is cached."""
    monkeypatch.setattr(impact.report.build, "run_spec", lambda spec: small_result)
    spec = write_yaml(tmp_path / "rep.yaml", SMALL)
    assert main(["report", str(spec), "--out", str(tmp_path / "out"), "-q"]) == 0
    return tmp_path / "out" / "rep"


# -- 3 and 5: one-line errors from the CLI ----------------------------------------------------

def _out_is_file(tmp, mp):
    (tmp / "out.txt").write_text("keep me", encoding="utf-8")
    return ["report", str(tmp / "rep.yaml"), "--out", str(tmp / "out.txt")]


def _out_below_a_file(tmp, mp):
    (tmp / "out.txt").write_text("keep me", encoding="utf-8")
    return ["report", str(tmp / "rep.yaml"), "--out", str(tmp / "out.txt" / "sub")]


def _read_only_out(tmp, mp):
    # running as root ignores chmod, so the OS refusal is simulated where it happens
    real = os.mkdir

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(tmp / "out")):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)
    mp.setattr(os, "mkdir", refuse)
    return ["report", str(tmp / "rep.yaml"), "--out", str(tmp / "out")]


def _disk_full(tmp, mp):
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == "index.html":  # tables and figures are written by then: a half report
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)
    mp.setattr(Path, "write_text", full)
    return ["report", str(tmp / "rep.yaml"), "--out", str(tmp / "out")]


def _ctrl_c_report(tmp, mp):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    mp.setattr(impact.report.build, "result_heatmap", interrupt)
    return ["report", str(tmp / "rep.yaml"), "--out", str(tmp / "out")]


def _ctrl_c_fetch(tmp, mp):
    frame = FrameSource(impact.data.datasets.load_prices(["SPY"]))
    mp.setattr(impact.data.yahoo.YahooSource, "fetch", lambda self, symbols, start=None, end=None:
               frame.fetch(symbols, start, end))
    cache = PriceCache(tmp / "cache")
    cache.fetch(["SPY"], "2025-01-02", "2025-01-31", frame)
    assert cache.path("SPY").is_file()  # the file an interrupted refresh must leave alone

    def fsync(fd):  # the new file is fully written, not yet in place
        raise KeyboardInterrupt
    mp.setattr(os, "fsync", fsync)
    return ["data", "fetch", "SPY", "--start", "2025-01-02", "--end", "2025-03-31", "--refresh",
            "--cache-dir", str(tmp / "cache")]


def _backtest_no_event(tmp, mp):
    spec = write_yaml(tmp / "bt.yaml", SMALL_BACKTEST | {"events": {"actor": "China", "start": "2030-01-01"}})
    return ["backtest", str(spec)]


def _backtest_out_is_file(tmp, mp):
    (tmp / "out.txt").write_text("keep me", encoding="utf-8")
    return ["backtest", str(write_yaml(tmp / "bt.yaml", SMALL_BACKTEST)), "--out", str(tmp / "out.txt")]


def _cache_dir_is_file(tmp, mp):
    (tmp / "out.txt").write_text("keep me", encoding="utf-8")
    return ["data", "fetch", "SPY", "--cache-dir", str(tmp / "out.txt")]  # fails on the lock, before any download


def _raising(exc: OSError):
    def setup(tmp, mp):
        def command(args):
            raise exc
        mp.setattr("impact.cli.events.cmd_list", command)
        return ["events", "list"]
    return setup


CLI_CASES = [
    # id, setup(tmp, monkeypatch) -> argv, exit code, words in the one stderr line
    ("out-is-a-file", _out_is_file, 2, ["out.txt is a file, not a folder", "choose another output folder"]),
    ("out-below-a-file", _out_below_a_file, 2, ["cannot write", "not a folder", "remove that file or use another path"]),
    ("read-only-out", _read_only_out, 2, ["cannot write", "out/rep", "permission denied", "fix its permissions"]),
    ("disk-full", _disk_full, 2, ["cannot write", "out/rep (nothing was changed there)", "no space left on device",
                                  "free some disk space"]),
    ("ctrl-c-report", _ctrl_c_report, 130, ["interrupted (Ctrl-C)", "no partial output", "run the command again"]),
    ("ctrl-c-fetch", _ctrl_c_fetch, 130, ["interrupted (Ctrl-C)", "no partial output"]),
    ("backtest-no-event", _backtest_no_event, 2, ["bt.yaml: field 'events' (actor=China, start=2030-01-01)",
                                                  "matches no event", "widen the filter"]),
    ("backtest-out-is-file", _backtest_out_is_file, 2, ["out.txt is a file, not a folder"]),
    ("cache-dir-is-file", _cache_dir_is_file, 2, ["out.txt is a file, not a folder", "IMPACT_CACHE_DIR"]),
    ("oserror-permission", _raising(PermissionError(errno.EACCES, "Permission denied", "/data/x.csv")), 2,
     ["/data/x.csv: permission denied: fix its permissions or use another path"]),
    ("oserror-is-a-dir", _raising(IsADirectoryError(errno.EISDIR, "Is a directory", "/data")), 2,
     ["/data: is a folder, not a file: give the path of a file"]),
    ("oserror-not-a-dir", _raising(NotADirectoryError(errno.ENOTDIR, "Not a directory", "/f.txt/x")), 2,
     ["/f.txt/x: a part of this path is a file"]),
    ("oserror-disk-full", _raising(OSError(errno.ENOSPC, "No space left on device", "/out/x")), 2,
     ["/out/x: no space left on device: free some disk space"]),
]


@pytest.mark.parametrize("setup, code, words", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_case_is_one_line_and_keeps_the_old_output(setup, code, words, old_report, tmp_path, monkeypatch,
                                                       capsys):
    before = report_files(old_report)
    capsys.readouterr()
    argv = setup(tmp_path, monkeypatch)
    cache_before = cache_files(tmp_path / "cache")
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("impact: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert report_files(old_report) == before  # the previous report is whole and unchanged
    assert hidden(tmp_path / "out") == []  # no build folder, no moved-aside report
    if (tmp_path / "out.txt").exists():
        assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "keep me"
    # an interrupted refresh leaves the cached file as it was, and no temp file
    assert cache_files(tmp_path / "cache") == cache_before


# -- 1: kills and the recoverable swap (real subprocesses and signals) --------------------------

def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(ROOT)}


def _start(args: list[str], script: str | None = None) -> subprocess.Popen:
    # a runner may start us with SIGINT ignored; Ctrl-C must reach the child as KeyboardInterrupt
    code = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n" + (
        script or "import sys; from impact.cli.main import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.Popen([sys.executable, "-c", code, *args], env=_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_build(proc: subprocess.Popen, out: Path, timeout: float = 120.0) -> Path:
    """Poll until the run has a ``.rep-<pid>-*`` build folder with a file in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        builds = [p for p in out.glob(f".rep-{proc.pid}-*") if any(p.rglob("*.*"))] if out.is_dir() else []
        if builds:
            return builds[0]
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()}"
        time.sleep(0.005)
    proc.kill()
    raise AssertionError("no build folder appeared")


@pytest.mark.parametrize("sig, code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 143),
                                       (signal.SIGINT, 130)], ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_killed_report_leaves_the_old_one_and_the_next_run_cleans_up(sig, code, old_report, tmp_path):
    out = old_report.parent
    before = report_files(old_report)
    spec = write_yaml(tmp_path / "rep.yaml", SMALL | {"title": "New"})
    proc = _start(["report", str(spec), "--out", str(out), "-q"])
    _wait_for_build(proc, out)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    assert report_files(old_report) == before  # never a lost or half report
    if sig == signal.SIGKILL:  # the reproduction: a dead run's build folder stays behind
        assert hidden(out) and all(name.startswith(f".rep-{proc.pid}-") for name in hidden(out))
    else:  # SIGTERM and Ctrl-C clean up like an exception, in one line
        assert hidden(out) == [] and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert "no partial output" in err
    assert main(["report", str(spec), "--out", str(out), "-q"]) == 0  # the next run
    assert hidden(out) == []
    assert "New" in (old_report / "index.html").read_text(encoding="utf-8")
    assert (old_report / "tables" / "per_event.csv").is_file() and not (old_report / MARKER).exists()


DIE_BETWEEN_RENAMES = """
import os, sys
from pathlib import Path
real = os.replace
def replace(src, dst):
    real(src, dst)
    if Path(dst).name.startswith(".rep-old-"):  # the old report is aside, the new one not yet in place
        os._exit(9)
os.replace = replace
from impact.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def between_renames(tmp_path_factory, small_result) -> tuple[Path, int]:
    """``out/`` after a report run died between the two renames of its swap (over an "Old" report)."""
    root = tmp_path_factory.mktemp("swap")
    impact.report.build.write_report(load_spec(str(write_yaml(root / "old.yaml", SMALL))), root / "out", small_result)
    proc = _start(["report", str(write_yaml(root / "new.yaml", SMALL | {"title": "New"})), "--out", str(root / "out"),
                   "-q"], DIE_BETWEEN_RENAMES)
    proc.communicate(timeout=180)
    assert proc.returncode == 9
    return root / "out", proc.pid


@pytest.mark.parametrize("damage, expect", [
    (None, "New"),  # the complete new build survived: the swap is finished
    ("marker", "Old"),  # the build is not known to be complete: the old report is put back
    ("build", "Old"),  # no build at all: the old report is put back
])
def test_kill_between_the_two_renames_is_recovered(damage, expect, tmp_path, between_renames):
    state, pid = between_renames
    out = shutil.copytree(state, tmp_path / "out")
    assert not (out / "rep").exists()  # the reproduction: <name> missing, the old one only aside
    build = next(out.glob(f".rep-{pid}-*"))
    assert (out / f".rep-old-{pid}").is_dir() and (build / MARKER).is_file()
    if damage == "marker":
        (build / MARKER).unlink()
    elif damage == "build":
        shutil.rmtree(build)
    recover(out, "rep")
    assert hidden(out) == []
    assert expect in (out / "rep" / "index.html").read_text(encoding="utf-8")
    assert (out / "rep" / "tables" / "per_event.csv").is_file() and not (out / "rep" / MARKER).exists()


def test_next_report_after_a_kill_between_renames(tmp_path, monkeypatch, between_renames, small_result):
    state, _ = between_renames
    out = shutil.copytree(state, tmp_path / "out")
    monkeypatch.setattr(impact.report.build, "run_spec", lambda spec: small_result)
    spec = write_yaml(tmp_path / "rep.yaml", SMALL | {"title": "Newer"})
    assert main(["report", str(spec), "--out", str(out), "-q"]) == 0
    assert hidden(out) == [] and "Newer" in (out / "rep" / "index.html").read_text(encoding="utf-8")


def _lo(kind, pid, complete=False, mtime=0.0, tag=""):
    name = f".rep-old-{pid}" if kind == "old" else f".rep-{pid}-x{tag}"
    return Leftover(Path("out") / name, kind, pid, complete, mtime)


FINAL = Path("out/rep")
PLAN_CASES = [
    # id, rep exists, stale leftovers, expected steps
    ("nothing", True, [], []),
    ("killed-build", True, [_lo("build", 7)], [("remove", _lo("build", 7).path, None)]),
    ("complete-build-but-rep-exists", True, [_lo("build", 7, True)], [("remove", _lo("build", 7).path, None)]),
    ("between-renames", False, [_lo("old", 7), _lo("build", 7, True)],
     [("remove", _lo("old", 7).path, None), ("rename", _lo("build", 7).path, FINAL)]),
    ("between-renames-build-incomplete", False, [_lo("old", 7), _lo("build", 7)],
     [("remove", _lo("build", 7).path, None), ("rename", _lo("old", 7).path, FINAL)]),
    ("other-pid-build-not-taken", False, [_lo("old", 7), _lo("build", 8, True)],
     [("remove", _lo("build", 8).path, None), ("rename", _lo("old", 7).path, FINAL)]),
    ("first-write-before-rename", False, [_lo("build", 7, True)], [("rename", _lo("build", 7).path, FINAL)]),
    ("newest-old-wins", False, [_lo("old", 7, mtime=1), _lo("old", 8, mtime=2)],
     [("remove", _lo("old", 7).path, None), ("rename", _lo("old", 8).path, FINAL)]),
    ("after-renames-old-left", True, [_lo("old", 7)], [("remove", _lo("old", 7).path, None)]),
]


@pytest.mark.parametrize("exists, stale, steps", [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_recovery_plan(exists, stale, steps):
    assert recovery_plan(FINAL, exists, stale) == steps


@pytest.mark.parametrize("entry, parsed", [
    (".rep-123-ab_c9", ("build", 123)), (".rep-old-123", ("old", 123)), ("rep", None), (".rep-x-1-ab", None),
    (".rep-old-12-x", None), (".report-1-ab", None), (".rep-12", None),
])
def test_leftover_names(entry, parsed):
    assert parse_leftover("rep", entry) == parsed


def test_live_process_leftovers_are_left_alone(tmp_path):
    out = tmp_path / "out"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / f".rep-{live.pid}-abc").mkdir(parents=True)
        (out / f".rep-old-{live.pid}").mkdir()
        assert recover(out, "rep") == []
        assert hidden(out) == [f".rep-{live.pid}-abc", f".rep-old-{live.pid}"]
    finally:
        live.kill()
        live.wait()
    assert [op for op, *_ in recover(out, "rep")] == ["remove", "rename"]  # now dead: the old one is restored
    assert hidden(out) == [] and (out / "rep").is_dir()


# -- 2: CSVs for spreadsheets are escaped, numbers and parquet are not -----------------------------

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]
SAFE = ["plain", "-0.027", "+3", "1e-5", "", "a=b"]


@pytest.mark.parametrize("value, escaped", [(v, "'" + v) for v in HOSTILE] + [(v, v) for v in SAFE]
                         + [(-0.027, -0.027), (None, None)])
def test_escape_cell(value, escaped):
    assert csvsafe.escape_cell(value) == escaped


def test_spreadsheet_safe_keeps_numbers_and_escapes_names():
    frame = pd.DataFrame({"title": HOSTILE, "car": -0.027, "n": -3, "=col": ["a"] * len(HOSTILE)})
    safe = csvsafe.spreadsheet_safe(frame)
    assert list(safe.columns) == ["title", "car", "n", "'=col"]
    assert list(safe["title"]) == ["'" + v for v in HOSTILE]
    assert safe["car"].dtype == float and safe["n"].dtype == frame["n"].dtype
    assert list(frame["title"]) == HOSTILE  # the input is not changed


EVIL = "=HYPERLINK(\"http://evil\",\"click\")"


def _report_table_csv(tmp, capsys, mp):
    _Writer(tmp).table("t", pd.DataFrame({"title": [EVIL], "car": [-0.027]}))
    parquet = pd.read_parquet(tmp / "tables" / "t.parquet")
    assert parquet["title"].iloc[0] == EVIL and parquet["car"].iloc[0] == -0.027  # typed data: unescaped
    return (tmp / "tables" / "t.csv").read_text(encoding="utf-8")


def _events_list_csv(tmp, capsys, mp):
    rows = pd.read_csv(ROOT / "events" / "us_china_trade_policy.csv", dtype=str, keep_default_na=False).head(2)
    rows.assign(title=EVIL).to_csv(tmp / "cat.csv", index=False)
    assert main(["events", "list", "--catalog", str(tmp / "cat.csv"), "--format", "csv"]) == 0
    return capsys.readouterr().out


def _backtest_csv(to_file: bool):
    def produce(tmp, capsys, mp):
        real = BacktestResult.trade_table
        mp.setattr(BacktestResult, "trade_table", lambda self: real(self).assign(title=EVIL))
        args = ["backtest", str(write_yaml(tmp / "bt.yaml", SMALL_BACKTEST)), "--format", "csv"]
        assert main(args + ["--out", str(tmp / "out")] * to_file) == 0
        return (tmp / "out" / "bt" / "trades.csv").read_text(encoding="utf-8") if to_file else capsys.readouterr().out
    return produce


def _study_csv(tmp, capsys, mp):
    real = EventStudyResult.car
    mp.setattr(EventStudyResult, "car", lambda self, window=None: real(self, window).assign(title=EVIL))
    spec = {"name": "s", "title": "s", "assets": ["SPY"], "filters": {"start": "2025-10-09", "end": "2025-10-14"},
            "car_windows": [[0, 0]]}
    assert main(["study", str(write_yaml(tmp / "s.yaml", spec)), "--format", "csv"]) == 0
    return capsys.readouterr().out


CSV_CASES = [  # id, produce(tmp, capsys, monkeypatch) -> CSV text with a title EVIL, numeric columns
    ("report-table", _report_table_csv, ["car"]),
    ("events-list", _events_list_csv, []),
    ("backtest-trades-file", _backtest_csv(True), ["return_net", "cum_pnl"]),
    ("backtest-format-csv", _backtest_csv(False), ["return_net", "cum_pnl"]),
    ("study-format-csv", _study_csv, ["car", "t"]),
]


@pytest.mark.parametrize("produce, numbers", [c[1:] for c in CSV_CASES], ids=[c[0] for c in CSV_CASES])
def test_exported_csv_is_escaped_for_spreadsheets(produce, numbers, tmp_path, capsys, monkeypatch):
    capsys.readouterr()
    back = pd.read_csv(io.StringIO(produce(tmp_path, capsys, monkeypatch)))
    assert len(back) and (back["title"] == f"'{EVIL}").all()
    for column in numbers:  # numbers stay numbers, negative ones too
        assert pd.api.types.is_float_dtype(back[column]) and (back[column] < 0).any(), column


# -- 4: EventStudy.from_returns(..., returns="log"|"simple") -------------------------------------

@pytest.mark.parametrize("kind", ["log", "simple"])
def test_from_returns_accepts_the_returns_kind(kind):
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=320)
    frame = pd.DataFrame({"MKT": rng.normal(0, 0.01, len(dates))}, index=dates)
    frame["A"] = 0.5 * frame["MKT"] + rng.normal(0, 0.01, len(dates))
    events = pd.DataFrame({"event_id": ["E1"], "date": [dates[300]]})
    study = EventStudy.from_returns(frame, events, returns=kind, market="MKT", estimation_window=(-250, -11),
                                    event_window=(-2, 2))
    assert study.returns_kind == kind
    assert len(study.fit().car((0, 0))) == 1
