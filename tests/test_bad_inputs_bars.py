"""Issue 14.3 / 11: bad intraday bars get the same treatment as bad daily prices — a
one-line ImpactError naming the file, row and fix, or a recorded list (gaps) — from
files, frames and yfinance alike. One row per case: ``(description, run, expected)``;
``expected`` is the message substring or a function checking what ``run`` returned.
All bars here are SYNTHETIC."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from impact.data import load_bars
from impact.data.bars import bar_gaps, validate_bars
from impact.data.cache import PriceCache
from impact.data.files import load_bar_file
from impact.data.yahoo import YahooSource
from tests.bad_input import check

HEADER = "Datetime,Open,High,Low,Close,Volume\n"


def _file(ctx, body: str, name: str = "SPY.csv", header: str = HEADER) -> Path:
    path = ctx.tmp_path / name
    path.write_text(header + body)
    return path


def _bars(times, close=(100.0, 100.5, 101.0), **columns) -> pd.DataFrame:
    n = len(times)
    frame = {"symbol": "SPY", "time": times, "open": [100.0] * n, "high": [102.0] * n, "low": [99.0] * n,
             "close": list(close)[:n], "volume": [10.0] * n}
    frame.update(columns)
    return pd.DataFrame(frame)


def _times_utc(*expected: str):
    def check(bars: pd.DataFrame) -> None:
        assert str(bars["time"].dtype) == "datetime64[ns, UTC]"
        assert list(bars["time"].dt.strftime("%Y-%m-%d %H:%M")) == list(expected)
    return check


def _gaps(*expected: tuple):
    def check(gaps: pd.DataFrame) -> None:
        got = [(g.symbol, f"{g.after:%H:%M}", f"{g.before:%H:%M}", g.missing_minutes) for g in gaps.itertuples()]
        assert got == list(expected)
    return check


AWARE = ("2025-10-10T10:55:00-04:00,100,101,99,100.5,10\n2025-10-10T10:56:00-04:00,100.5,101,100,100.7,12\n")

CASES = [
    ("naive timestamps in a file", lambda ctx: load_bar_file(_file(ctx, "2025-10-10 10:55,100,101,99,100.5,10\n")),
     "SPY.csv, row 1 (line 2): timestamp '2025-10-10 10:55' has no time zone; give times with an offset "
     "(2025-10-10T10:57:00-04:00) or pass tz='America/New_York' (the file's clock)"),
    ("naive datetime column in a frame",
     lambda ctx: validate_bars(_bars(pd.to_datetime(["2025-10-10 10:55", "2025-10-10 10:56"]))),
     "bars, row 1: timestamp 2025-10-10 10:55:00 has no time zone"),
    ("naive file read on its stated clock",
     lambda ctx: load_bar_file(_file(ctx, "2025-10-10 10:55,100,101,99,100.5,10\n"), tz="America/New_York"),
     _times_utc("2025-10-10 14:55")),
    ("offsets across a DST change", lambda ctx: load_bar_file(_file(
        ctx, "2025-11-01T15:59:00-04:00,100,101,99,100.5,10\n2025-11-03T09:30:00-05:00,100,101,99,100.5,10\n")),
     _times_utc("2025-11-01 19:59", "2025-11-03 14:30")),
    ("a local time that does not exist (spring forward)",
     lambda ctx: load_bar_file(_file(ctx, "2025-03-09 02:30,100,101,99,100.5,10\n"), tz="America/New_York"),
     "row 1 (line 2): local time 2025-03-09 02:30 does not exist or occurs twice in America/New_York (a DST change); "
     "write it with its UTC offset"),
    ("a local time that occurs twice (fall back)",
     lambda ctx: load_bar_file(_file(ctx, "2025-11-02 01:30,100,101,99,100.5,10\n"), tz="America/New_York"),
     "does not exist or occurs twice in America/New_York"),
    ("an unknown zone", lambda ctx: load_bar_file(_file(ctx, "2025-10-10 10:55,100,101,99,100.5,10\n"), tz="EST5"),
     "cannot use tz='EST5'"),
    ("offsets on some rows only", lambda ctx: load_bar_file(_file(
        ctx, "2025-10-10T10:55:00-04:00,100,101,99,100.5,10\n2025-10-10 10:56,100,101,99,100.5,10\n")),
     "row 2 (line 3): timestamp '2025-10-10 10:56' has no time zone"),
    ("offsets on some rows only, tz given", lambda ctx: load_bar_file(_file(
        ctx, "2025-10-10T10:55:00-04:00,100,101,99,100.5,10\n2025-10-10 10:56,100,101,99,100.5,10\n"),
        tz="America/New_York"),
     "row 2 (line 3): timestamp '2025-10-10 10:56' has no offset while others do; write every time with its offset"),
    ("unparseable timestamp", lambda ctx: load_bar_file(_file(ctx, "2025-10-10 ten to eleven-04:00,1,1,1,1,1\n")),
     "unparseable timestamp"),
    ("duplicated bar", lambda ctx: load_bar_file(_file(ctx, AWARE + AWARE.splitlines()[0] + "\n")),
     "row 3 (line 4): duplicated bar 2025-10-10 14:55 UTC for SPY (first seen at row 1 (line 2)); keep one bar per time"),
    ("1-minute bars read as 5-minute ones", lambda ctx: load_bar_file(_file(ctx, AWARE), interval="5m"),
     "SPY bars are mostly 1 min apart (e.g. 2025-10-10 14:55 and 14:56 UTC), not 5 as the interval says; "
     "give the right interval or resample the file"),
    ("high below low", lambda ctx: load_bar_file(_file(ctx, "2025-10-10T10:55:00-04:00,100,99,101,100,10\n")),
     "row 1 (line 2): bar at 2025-10-10 14:55 UTC has high 99, low 101, close 100: the close must lie within "
     "[low, high]; fix the bar"),
    ("close above the high", lambda ctx: load_bar_file(_file(ctx, "2025-10-10T10:55:00-04:00,100,101,99,102,10\n")),
     "has high 101, low 99, close 102"),
    ("zero price", lambda ctx: load_bar_file(_file(ctx, "2025-10-10T10:55:00-04:00,100,101,99,0,10\n")),
     "row 1 (line 2): non-positive close 0 for SPY on 2025-10-10; a price must be > 0"),
    ("text price", lambda ctx: load_bar_file(_file(ctx, "2025-10-10T10:55:00-04:00,100,101,99,n.a.,10\n")),
     "row 1 (line 2): close 'n.a.' is not a number"),
    ("negative volume", lambda ctx: load_bar_file(_file(ctx, "2025-10-10T10:55:00-04:00,100,101,99,100,-5\n")),
     "row 1 (line 2): negative volume -5; fix the cell"),
    ("no timestamp column", lambda ctx: load_bar_file(_file(ctx, "100,101,99,100,5\n", header="o,h,l,Close,v\n")),
     "SPY.csv: no timestamp column (columns: o, h, l, close, v, symbol)"),
    ("no close column", lambda ctx: validate_bars(pd.DataFrame({"symbol": ["SPY"], "time": ["2025-10-10T10:55Z"]})),
     "bars: no close column"),
    ("empty bar file", lambda ctx: load_bar_file(_file(ctx, "", header="")),
     "empty file; a bar file needs a header row (time, close) and data rows"),
    ("no such bar file", lambda ctx: load_bar_file(ctx.tmp_path / "nope.csv"), "nope.csv: no such bar file"),
    ("unknown interval", lambda ctx: load_bar_file(_file(ctx, AWARE), interval="3m"),
     "unknown bar interval '3m'; choose one of 1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h"),
    ("Polygon epoch milliseconds (t)", lambda ctx: validate_bars(pd.DataFrame({
        "ticker": ["SPY"], "t": [1760108100000], "c": [100.0], "close": [100.0]})), _times_utc("2025-10-10 14:55")),
    ("Databento ts_event nanoseconds", lambda ctx: validate_bars(pd.DataFrame({
        "symbol": ["SPY"], "ts_event": [1760108100000000000], "close": [100.0]})), _times_utc("2025-10-10 14:55")),
    ("yfinance to_csv of an intraday download (three header lines)", lambda ctx: load_bar_file(_file(
        ctx, "Ticker,SPY,SPY,SPY,SPY,SPY\nDatetime,,,,,\n2025-10-10 10:55:00-04:00,100.5,101,99,100,10\n",
        header="Price,Close,High,Low,Open,Volume\n")), _times_utc("2025-10-10 14:55")),
    ("separate Date and Time columns (TradeStation, Kibot) on a stated clock", lambda ctx: load_bar_file(_file(
        ctx, "10/09/2025,10:55,100,101,99,100.5,10\n", header="Date,Time,Open,High,Low,Close,Vol\n"),
        tz="America/New_York", dayfirst=False), _times_utc("2025-10-09 14:55")),
    ("slashed dates without dayfirst", lambda ctx: load_bar_file(_file(
        ctx, "10/09/2025,10:55,100,101,99,100.5,10\n", header="Date,Time,Open,High,Low,Close,Vol\n"),
        tz="America/New_York"), "timestamp '10/09/2025 10:55' is d/m/y or m/d/y; pass dayfirst=False (month first, "
                                "US exports) or dayfirst=True, or write ISO times"),
    ("separate Date and Time columns without a zone", lambda ctx: load_bar_file(_file(
        ctx, "10/10/2025,10:55,100,101,99,100.5,10\n", header="Date,Time,Open,High,Low,Close,Vol\n")),
     "timestamp '10/10/2025 10:55' has no time zone"),
    ("missing bars are listed, not refused", lambda ctx: bar_gaps(load_bar_file(_file(ctx, AWARE + (
        "2025-10-10T11:05:00-04:00,100,101,99,100.5,10\n"))), "1m"), _gaps(("SPY", "14:56", "15:05", 8.0))),
    ("a closure is not a gap", lambda ctx: bar_gaps(load_bar_file(_file(ctx, AWARE + (
        "2025-10-13T09:30:00-04:00,100,101,99,100.5,10\n"))), "1m"), _gaps()),
    ("a symbol the bars lack", lambda ctx: load_bars(["QQQ"], _file(ctx, AWARE), interval="1m"),
     "unknown symbol(s) QQQ in the bars (they hold: SPY)"),
    ("a 1m source for the 5m cache", lambda ctx: PriceCache(ctx.tmp_path, interval="5m").fetch(
        ["SPY"], "2026-11-20", "2026-11-21", YahooSource(interval="1m")),
     "a 1m source cannot fill the 5m cache; use PriceCache(interval='1m')"),
    ("source and interval disagree", lambda ctx: load_bars(["SPY"], YahooSource(interval="1m"), interval="5m",
                                                           cache_dir=ctx.tmp_path),
     "the source asks for 1m bars but interval='5m'; make them agree"),
    ("an unknown cache interval", lambda ctx: PriceCache(ctx.tmp_path, interval="1w"), "unknown bar interval '1w'"),
]


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    return SimpleNamespace(tmp_path=tmp_path, monkeypatch=monkeypatch)


@pytest.mark.parametrize("description, run, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_bars(description, run, expected, ctx):
    check(run, expected, ctx)


def test_intraday_cache_file_is_refused_when_corrupt_and_daily_files_are_untouched(tmp_path):
    (tmp_path / "SPY@5m.parquet").write_bytes(b"PAR1 half a file")
    cache = PriceCache(tmp_path, interval="5m")
    assert cache.entries()["status"].iloc[0].startswith("corrupt: ")
    assert PriceCache(tmp_path).symbols() == [] and cache.symbols() == ["SPY"]
