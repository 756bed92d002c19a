"""The parquet price cache: incremental refresh, offline mode, crash safety, corruption, locking.

Upstream data are the real bundled prices served through an in-memory source, so no
test touches the network.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from impact import datasets
from impact.cli.main import main
from impact.data.cache import ENV_VAR, CacheCorruptError, PriceCache, default_cache_dir
from impact.data.prices import TIDY_COLUMNS
from impact.data.sources import FrameSource
from impact.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


class CountingSource(FrameSource):
    """Real bundled prices; records every (symbols, start, end) it is asked for."""

    def __init__(self, symbols=("ZS_F", "SPY", "WEAT"), adjustment="as given", fail=()):
        super().__init__(datasets.load_prices(list(symbols))[list(TIDY_COLUMNS)], name="frame")
        self.adjustment = adjustment
        self.requests = []
        self.fail = set(fail)

    def fetch(self, symbols, start=None, end=None):
        symbols = list(symbols)
        self.requests.append((tuple(symbols), f"{pd.Timestamp(start):%Y-%m-%d}", f"{pd.Timestamp(end):%Y-%m-%d}"))
        got = super().fetch([s for s in symbols if s not in self.fail], start, end)
        got.failed.update({s: "HTTP 404 (scripted failure)" for s in symbols if s in self.fail})
        return got


def _bundled(symbol, start, end):
    p = datasets.load_prices([symbol])
    return p[(p["date"] >= start) & (p["date"] <= end)].reset_index(drop=True)


def test_fetch_caches_then_serves_and_refreshes_only_the_missing_range(tmp_path):
    src = CountingSource()
    cache = PriceCache(tmp_path)
    first = cache.fetch(["ZS_F", "SPY"], "2025-01-01", "2025-03-31", src)
    assert src.requests == [(("ZS_F", "SPY"), "2025-01-01", "2025-03-31")]  # one batched call
    assert set(first.fetched) == {"ZS_F", "SPY"}

    again = cache.fetch(["ZS_F", "SPY"], "2025-01-01", "2025-03-31", src)
    assert len(src.requests) == 1 and sorted(again.from_cache) == ["SPY", "ZS_F"]
    pd.testing.assert_frame_equal(again.prices.reset_index(drop=True), first.prices.reset_index(drop=True))

    later = cache.fetch(["ZS_F"], "2025-01-01", "2025-06-30", src)
    assert src.requests[-1] == (("ZS_F",), "2025-03-31", "2025-06-30")  # the tail only (last day re-asked)
    earlier = cache.fetch(["ZS_F"], "2024-10-01", "2025-06-30", src)
    assert src.requests[-1] == (("ZS_F",), "2024-10-01", "2024-12-31")  # the head only
    exp = _bundled("ZS_F", "2024-10-01", "2025-06-30")
    got = earlier.prices.reset_index(drop=True)
    pd.testing.assert_series_equal(got["close"], exp["close"], check_names=False)
    assert list(got["date"]) == list(exp["date"])
    assert len(later.prices) == len(_bundled("ZS_F", "2025-01-01", "2025-06-30"))

    meta = cache.read("ZS_F").meta
    assert meta["source"] == "frame" and meta["adjustment"] == "as given"
    assert (meta["start"], meta["end"]) == ("2024-10-01", "2025-06-30")
    assert pd.Timestamp(meta["fetched_at"]).tzinfo is not None
    listing = cache.entries().set_index("symbol")
    assert listing.loc["ZS_F", "status"] == "ok" and listing.loc["ZS_F", "rows"] == len(exp)


def test_changed_adjustment_refetches_everything(tmp_path):
    cache = PriceCache(tmp_path)
    cache.fetch(["SPY"], "2025-01-01", "2025-03-31", CountingSource())
    other = CountingSource(adjustment="auto_adjust")
    cache.fetch(["SPY"], "2025-02-01", "2025-03-31", other)
    assert other.requests == [(("SPY",), "2025-02-01", "2025-03-31")]
    assert cache.read("SPY").meta["adjustment"] == "auto_adjust"


def test_offline_never_touches_the_source(tmp_path):
    cache = PriceCache(tmp_path)
    cache.fetch(["ZS_F"], "2025-01-01", "2025-03-31", CountingSource())

    class Exploding:
        name, adjustment = "frame", "as given"

        def fetch(self, *a, **k):
            raise AssertionError("network touched in offline mode")

    ok = cache.fetch(["ZS_F"], "2025-02-01", "2025-03-31", Exploding(), offline=True)
    assert ok.failed == {} and ok.prices["date"].min() >= pd.Timestamp("2025-02-01")
    report = cache.fetch(["ZS_F", "SPY"], "2025-01-01", "2025-06-30", Exploding(), offline=True)
    assert "covers 2025-01-01..2025-03-31" in report.failed["ZS_F"]
    assert "not cached" in report.failed["SPY"]
    with pytest.raises(DataError, match="SPY") as err:
        report.raise_for_failures()
    assert "\n" not in str(err.value)


def test_partial_success_is_cached_and_failure_named(tmp_path):
    cache = PriceCache(tmp_path)
    src = CountingSource(fail={"WEAT"})
    report = cache.fetch(["ZS_F", "WEAT"], "2025-01-01", "2025-03-31", src)
    assert report.failed == {"WEAT": "HTTP 404 (scripted failure)"}
    assert cache.read("ZS_F") is not None and cache.read("WEAT") is None


def test_cache_dir_env_var_and_cli_option(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from_env"))
    assert default_cache_dir() == tmp_path / "from_env"
    assert PriceCache().root == tmp_path / "from_env"
    PriceCache(tmp_path / "from_env").fetch(["SPY"], "2025-01-01", "2025-01-31", CountingSource())
    assert main(["data", "list", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("symbol,source,adjustment,start,end,rows")
    assert "SPY,frame,as given,2025-01-01,2025-01-31" in out
    assert main(["data", "list", "--cache-dir", str(tmp_path / "other")]) == 0
    assert "(empty)" in capsys.readouterr().out
    assert main(["data", "fetch", "SPY", "--offline", "--start", "2025-01-02", "--end", "2025-01-31"]) == 0
    assert "up to date in cache" in capsys.readouterr().out
    assert main(["data", "fetch", "QQQ", "--offline", "--start", "2025-01-02", "--end", "2025-01-31"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("impact: error:") and "QQQ" in err and "\n" not in err
    assert main(["data", "clear"]) == 2
    assert main(["data", "clear", "SPY"]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert PriceCache().entries().empty


@pytest.mark.parametrize("damage", ["truncate", "garbage", "no_metadata"])
def test_corrupted_file_is_detected_reported_and_refetched(tmp_path, damage):
    cache = PriceCache(tmp_path)
    src = CountingSource()
    cache.fetch(["ZS_F"], "2025-01-01", "2025-03-31", src)
    path = cache.path("ZS_F")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a parquet file at all")
    else:
        _bundled("ZS_F", "2025-01-01", "2025-03-31")[list(TIDY_COLUMNS)].to_parquet(path)
    with pytest.raises(CacheCorruptError, match=r"ZS_F\.parquet: corrupted cache file"):
        cache.read("ZS_F")
    assert cache.entries().iloc[0]["status"].startswith("corrupt")
    offline = cache.fetch(["ZS_F"], "2025-01-01", "2025-03-31", src, offline=True)
    assert "corrupted" in offline.failed["ZS_F"] and "without --offline" in offline.failed["ZS_F"]
    report = cache.fetch(["ZS_F"], "2025-01-01", "2025-03-31", src)
    assert "ZS_F" in report.corrupt and report.fetched["ZS_F"] == [("2025-01-01", "2025-03-31")]
    assert src.requests[-1] == (("ZS_F",), "2025-01-01", "2025-03-31")
    assert cache.read("ZS_F").prices["close"].tolist() == _bundled("ZS_F", "2025-01-01", "2025-03-31")["close"].tolist()


_SLOW_WRITER = textwrap.dedent("""
    import sys, time
    import pyarrow.parquet as pq
    import pandas as pd
    from impact.data.cache import PriceCache
    from impact import datasets
    from impact.data.prices import TIDY_COLUMNS

    def slow_write_table(table, where, **kw):
        # the real parquet writer, fed in small row groups with pauses: a long write
        with pq.ParquetWriter(where, table.schema) as writer:
            for start in range(0, table.num_rows, 50):
                writer.write_table(table.slice(start, 50))
                where.flush()
                time.sleep(0.2)
    pq.write_table = slow_write_table
    prices = datasets.load_prices(["SPY"])[list(TIDY_COLUMNS)]
    PriceCache(sys.argv[1]).write("ZS_F", prices, {"source": "killed", "adjustment": "", "fetched_at": "",
                                                     "start": "2017-01-01", "end": "2026-01-01"})
    print("finished", flush=True)
""")


def test_kill_during_write_leaves_previous_cache_readable(tmp_path):
    cache = PriceCache(tmp_path / "cache")
    cache.fetch(["ZS_F"], "2025-01-01", "2025-03-31", CountingSource())
    before = cache.read("ZS_F")
    script = tmp_path / "writer.py"
    script.write_text(_SLOW_WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(cache.root)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        tmp_files = []
        while time.monotonic() < deadline:
            tmp_files = [p for p in cache.root.glob(".ZS_F.parquet.*.tmp") if p.stat().st_size > 0]
            if tmp_files or proc.poll() is not None:
                break
            time.sleep(0.02)
        assert tmp_files, f"writer never started: {proc.communicate()[1].decode()[-500:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert any(p.exists() for p in tmp_files)  # it really died mid-write
    after = PriceCache(cache.root).read("ZS_F")
    pd.testing.assert_frame_equal(after.prices, before.prices)
    assert after.meta == before.meta
    assert list(cache.entries()["symbol"]) == ["ZS_F"]  # the leftover temp file is not a cache entry
    cache.clear()
    assert not list(cache.root.glob(".*.tmp"))


_RACER = textwrap.dedent("""
    import sys, time
    from impact import datasets
    from impact.data.cache import PriceCache
    from impact.data.prices import TIDY_COLUMNS
    from impact.data.sources import FrameSource

    class Slow(FrameSource):
        def fetch(self, symbols, start=None, end=None):
            with open(sys.argv[2], "a") as log:
                log.write("fetch\\n")
            time.sleep(1.0)  # hold the lock long enough for the other process to wait on it
            return super().fetch(symbols, start, end)

    src = Slow(datasets.load_prices(["ZS_F"])[list(TIDY_COLUMNS)], name="frame")
    report = PriceCache(sys.argv[1]).fetch(["ZS_F"], "2024-01-01", "2025-06-30", src)
    print(len(report.prices), flush=True)
""")


def test_two_processes_fetching_the_same_symbol(tmp_path):
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    log = tmp_path / "fetches.log"
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "cache"), str(log)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode()[-500:] for o in outs]
    n = len(_bundled("ZS_F", "2024-01-01", "2025-06-30"))
    assert [int(o[0]) for o in outs] == [n, n]
    assert log.read_text().count("fetch") == 1  # the second process waited, then found it cached
    assert len(PriceCache(tmp_path / "cache").read("ZS_F").prices) == n
