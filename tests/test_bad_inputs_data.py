"""Issue 11, data layer: every bad input gives a one-line ImpactError naming the problem
and the fix, or a recorded flag with its reason; never silently wrong numbers.

One table, one row per case: ``(description, run, expected)``. ``run(ctx)`` produces
the input and feeds it to the package (``ctx`` has ``tmp_path`` and ``monkeypatch``);
``expected`` is either the substring of the :class:`~impact.errors.ImpactError`
it must raise, or a function that checks what ``run`` returned (a flag, a number).
yfinance is faked by replacing ``yfinance.download`` with recorded frames
(tests/recorded/); no test touches the network.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yfinance

import impact.data.cache
from impact import datasets
from impact.cli.main import main
from impact.data.cache import ENV_VAR, PriceCache
from impact.data.files import load_price_file
from impact.data.prices import price_series, validate_prices
from impact.data.returns import ReturnPanel, gap_returns
from impact.data.yahoo import YahooSource, normalize_download
from impact.events.catalog import instants_from_frame, load_catalog
from tests.bad_input import check

RECORDED = Path(__file__).resolve().parent / "recorded"


# -- inputs ----------------------------------------------------------------------------------

def _csv(ctx, text: str, name: str = "prices.csv") -> Path:
    path = ctx.tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _dated_csv(ctx, fmt: str, start: str = "2024-01-01", n: int = 30, name: str = "SPY.csv") -> Path:
    days = pd.bdate_range(start, periods=n)
    return _csv(ctx, "date,close\n" + "".join(f"{d:{fmt}},{100 + i}\n" for i, d in enumerate(days)), name)


def _recorded_frame(ticker: str, tz: str | None = None) -> pd.DataFrame:
    """A recorded yfinance response (local-midnight index), optionally re-expressed in ``tz``."""
    rec = json.loads((RECORDED / f"history_{ticker}.json").read_text())
    index = pd.DatetimeIndex(pd.to_datetime(rec["index"])).tz_localize(rec["timezone"])
    frame = pd.DataFrame(rec["data"], index=index if tz is None else index.tz_convert(tz),
                         columns=rec["columns"], dtype=float)
    frame.index.name = "Date"
    return frame


def _download_as(ctx, reply) -> list:
    """Replace yfinance.download: ``reply(ticker, start, end)`` gives one ticker's frame (or None).

    The frames are put in yfinance's default ``(Price, Ticker)`` layout; returns the log
    of (tickers, start, end) asked."""
    asked = []

    def download(tickers, start=None, end=None, **kw):
        asked.append((tuple(tickers), start, end))
        blocks = {t: reply(t, start, end) for t in tickers}
        blocks = {t: f for t, f in blocks.items() if f is not None}
        if not blocks:
            return reply(tickers[0], start, end)  # None or an empty frame, as yfinance gives it
        return pd.concat(blocks, axis=1, sort=True).swaplevel(axis=1)

    ctx.monkeypatch.setattr(yfinance, "download", download)
    return asked


def _recorded_reply(tz=None, last=None):
    """Recorded frames cut to [start, end) on local dates (and at ``last``), as Yahoo serves them."""
    def reply(ticker, start, end):
        frame = _recorded_frame(ticker, tz)
        local = frame.index.tz_convert(_recorded_frame(ticker).index.tz).tz_localize(None).normalize()
        keep = (local >= pd.Timestamp(start)) & (local < pd.Timestamp(end))
        if last is not None:
            keep &= local <= pd.Timestamp(last)
        return frame[keep]
    return reply


def _yahoo() -> YahooSource:
    return YahooSource(sleep=lambda s: None, rng=random.Random(0), retries=1)


def _empty_reply(kind):
    def reply(ticker, start, end):
        if kind == "none":
            return None
        if kind == "empty":
            return pd.DataFrame()
        frame = _recorded_frame(ticker)
        frame[["Open", "High", "Low", "Close", "Adj Close"]] = np.nan  # every close NaN
        return frame
    return reply


def _fetch_reply(ctx, reply, symbols=("WEAT",), start="2025-04-25", end="2025-05-23", raise_=True):
    _download_as(ctx, reply)
    report = PriceCache(ctx.tmp_path / "cache").fetch(list(symbols), start, end, _yahoo())
    if raise_:
        report.raise_for_failures()
    return report


def _empty_then_real(ctx):
    _fetch_reply(ctx, _empty_reply("empty"), raise_=False)
    assert PriceCache(ctx.tmp_path / "cache").read("WEAT") is None  # nothing cached as "ok"
    asked = _download_as(ctx, _recorded_reply())
    report = PriceCache(ctx.tmp_path / "cache").fetch(["WEAT"], "2025-04-25", "2025-05-23", _yahoo())
    return report, asked


def _asked_again(got) -> None:
    report, asked = got
    assert len(asked) == 1 and report.from_cache == [] and report.fetched == {"WEAT": [("2025-04-25", "2025-05-23")]}
    assert len(report.prices) == 21


def _empty_incremental(ctx):
    _fetch_reply(ctx, _recorded_reply(), end="2025-05-16")
    report = _fetch_reply(ctx, _empty_reply("empty"), raise_=False)
    asked = _download_as(ctx, _recorded_reply())
    again = PriceCache(ctx.tmp_path / "cache").fetch(["WEAT"], "2025-04-25", "2025-05-23", _yahoo())
    return report, asked, again


def _incremental_not_covered(got) -> None:
    report, asked, again = got
    assert report.failed == {} and report.fetched == {}
    assert report.incomplete["WEAT"] == ("yahoo returned no rows for 2025-05-16..2025-05-23 although XNYS has "
                                         "6 session(s) in it; check the symbol or try again later")
    assert report.prices["date"].max() == pd.Timestamp("2025-05-16")  # the cached part, nothing invented
    assert [(a[1], a[2]) for a in asked] == [("2025-05-16", "2025-05-24")]  # asked again, not "up to date"
    assert again.fetched == {"WEAT": [("2025-05-16", "2025-05-23")]} and len(again.prices) == 21


def _weekend_is_covered(report) -> None:
    assert report.failed == {} and report.incomplete == {} and report.prices.empty
    assert report.fetched == {"WEAT": [("2025-05-17", "2025-05-18")]}


def _stops_early(report) -> None:
    assert report.failed == {} and report.prices["date"].max() == pd.Timestamp("2025-05-21")
    assert report.incomplete["WEAT"] == "yahoo has no rows after 2025-05-21 (cached up to there; asked again next time)"


def _shanghai_dates(report) -> None:
    got = report.prices
    assert list(got["date"].dt.strftime("%Y-%m-%d"))[:5] == ["2025-04-25", "2025-04-28", "2025-04-29",
                                                             "2025-04-30", "2025-05-06"]
    assert (got["date"].dt.day_of_week < 5).all()


def _string_cell(ticker, start, end):
    frame = _recorded_reply()(ticker, start, end).astype(object)
    if ticker == "WEAT":
        frame.iloc[2, frame.columns.get_loc("Close")] = "abc"
    return frame


class _NoLock:
    """A FileLock in a read-only folder: creating the lock file is refused."""

    def __init__(self, *a, **k):
        pass

    def __enter__(self):
        raise PermissionError(13, "Permission denied")

    def __exit__(self, *exc):
        return False


def _read_only_cache(ctx, start="2025-04-25"):
    _fetch_reply(ctx, _recorded_reply())
    ctx.monkeypatch.setattr(impact.data.cache, "FileLock", _NoLock)
    asked = _download_as(ctx, _recorded_reply())
    report = PriceCache(ctx.tmp_path / "cache").fetch(["WEAT"], start, "2025-05-23", _yahoo())
    assert asked == []
    return report


def _served_from_cache(report) -> None:
    assert report.from_cache == ["WEAT"] and len(report.prices) == 21 and report.failed == {}


def _cache_dir_is_a_file(ctx):
    (ctx.tmp_path / "afile").write_text("x")
    ctx.monkeypatch.setenv(ENV_VAR, str(ctx.tmp_path / "afile"))
    return PriceCache()


CATALOG_HEAD = "event_id,date,timezone,actor,kind,direction,title,source,confidence\n"


def _utc_of(*expected: str):
    def check(got: pd.Series) -> None:
        assert str(got.dtype) == "datetime64[ns, UTC]"
        assert list(got.dt.strftime("%Y-%m-%d %H:%M")) == list(expected)
    return check


def _tidy(symbol: str, closes, start: str = "2025-01-02") -> pd.DataFrame:
    days = pd.bdate_range(start, periods=len(closes))
    return pd.DataFrame({"date": days, "symbol": symbol, "close": closes})


def _qqq_without_second_half_2024() -> pd.DataFrame:
    p = datasets.load_prices(["QQQ"])
    p = p[(p["date"] >= "2024-01-01") & (p["date"] <= "2025-03-31")]
    return p[~p["date"].between("2024-06-01", "2024-12-31")].reset_index(drop=True)


# -- checks of flags and numbers -------------------------------------------------------------

def _dates_are(*expected: str):
    def check(got: pd.DataFrame) -> None:
        assert list(got["date"].dt.strftime("%Y-%m-%d")) == list(expected)
    return check


def _one_gap(asset: str, date: str, n: int):
    def check(got: pd.DataFrame) -> None:
        assert list(got.columns) == ["asset", "date", "reason"]
        assert got.to_dict("records") == [{"asset": asset, "date": pd.Timestamp(date), "reason": f"gap:{n} sessions"}]
    return check


def _no_gaps(got: pd.DataFrame) -> None:
    assert got.empty and list(got.columns) == ["asset", "date", "reason"]


def _qqq_gap_flag(panel: ReturnPanel) -> None:
    flag = panel.spans_gap("QQQ")
    assert flag.sum() == 1 and flag.idxmax() == pd.Timestamp("2025-01-02")
    # the return it marks is the whole hole as one number: 2024-05-31 -> 2025-01-02
    close = panel.closes["QQQ"]
    expected = np.log(close.loc["2025-01-02"] / close.loc["2024-05-31"])
    assert panel.returns["QQQ"].loc["2025-01-02"] == pytest.approx(expected)
    assert abs(expected) > 0.05


CASES = [
    # 2. day-first dates without dayfirst: refused, not misread
    ("dd/mm/yyyy without dayfirst (a day > 12)", lambda ctx: load_price_file(_dated_csv(ctx, "%d/%m/%Y")),
     "row 11 (line 12): date '15/01/2024' cannot be read month-first (15 is not a month); pass dayfirst=True "
     "or write ISO dates (YYYY-MM-DD)"),
    ("dd/mm/yyyy with dayfirst=True reads right",
     lambda ctx: load_price_file(_dated_csv(ctx, "%d/%m/%Y", n=3), dayfirst=True),
     _dates_are("2024-01-01", "2024-01-02", "2024-01-03")),
    ("mm/dd/yyyy with dayfirst=True", lambda ctx: load_price_file(_dated_csv(ctx, "%m/%d/%Y"), dayfirst=True),
     "date '01/15/2024' cannot be read day-first (15 is not a month); pass dayfirst=False"),
    ("dd/mm, every day <= 12, out of order when read month-first",
     lambda ctx: load_price_file(_csv(ctx, "date,close\n10/01/2024,1\n11/01/2024,2\n01/02/2024,3\n", "SPY.csv")),
     "row 3 (line 4): date '01/02/2024' read month-first as 2024-01-02 breaks the order of the dates before it; "
     "pass dayfirst=True if the file is day-first or write ISO dates"),
    ("dd/mm, every day <= 12, a weekend when read month-first",
     lambda ctx: load_price_file(_csv(ctx, "date,close\n03/06/2024,1\n04/06/2024,2\n", "SPY.csv")),
     "row 2 (line 3): date '04/06/2024' read month-first is Saturday 2024-04-06, not a XNYS session; "
     "pass dayfirst=True"),
    ("ISO dates are never second-guessed", lambda ctx: load_price_file(_dated_csv(ctx, "%Y-%m-%d", n=2)),
     _dates_are("2024-01-01", "2024-01-02")),
    # 3. tz-aware timestamps: the exchange's date, not the UTC one
    ("UTC-indexed yfinance frame of 000001.SS keeps Shanghai dates",
     lambda ctx: normalize_download(_recorded_frame("000001.SS", "UTC"), ["000001.SS"]).head(2),
     _dates_are("2025-04-25", "2025-04-28")),
    ("UTC-indexed frame through validate_prices (package symbol)",
     lambda ctx: validate_prices(pd.DataFrame({"date": pd.DatetimeIndex(["2025-05-06 01:30"]).tz_localize(
         "Asia/Shanghai").tz_convert("UTC"), "symbol": "000001_SS", "close": [3316.1]})),
     _dates_are("2025-05-06")),
    ("vendor UTC-midnight labels of a US asset keep their date",
     lambda ctx: load_price_file(_csv(ctx, "date,close\n2025-01-02T00:00:00Z,1\n2025-01-03T00:00:00Z,2\n",
                                      "SPY.csv")),
     _dates_are("2025-01-02", "2025-01-03")),
    ("tz-aware CSV spanning a DST change (mixed offsets)",
     lambda ctx: load_price_file(_csv(ctx, "date,close\n2024-03-08T16:00:00-05:00,1\n2024-03-11T16:00:00-04:00,2\n",
                                      "SPY.csv")),
     _dates_are("2024-03-08", "2024-03-11")),
    ("UTC instants of Shanghai closes in a user file",
     lambda ctx: load_price_file(_csv(ctx, "date,close\n2025-05-06T07:00:00Z,1\n2025-05-06T23:30:00Z,2\n"),
                                 symbol="000001_SS"),
     _dates_are("2025-05-06", "2025-05-07")),
    # 4. values: one rule for every path
    ("inf close in a frame", lambda ctx: validate_prices(_tidy("SPY", [1.0, np.inf, 2.0])),
     "prices, row 2: infinite close inf for SPY on 2025-01-03; fix the cell or leave it empty for a missing price"),
    ("inf close in a file", lambda ctx: load_price_file(_csv(ctx, "date,close\n2025-01-02,1\n2025-01-03,inf\n")),
     "row 2 (line 3): infinite close inf for prices on 2025-01-03"),
    ("inf close on the EventStudy path", lambda ctx: price_series(_tidy("SPY", [1.0, np.inf, 2.0])),
     "prices, row 2: infinite close inf for SPY on 2025-01-03"),
    ("zero close on the EventStudy path", lambda ctx: price_series(_tidy("SPY", [1.0, 0.0, 2.0])),
     "prices, row 2: non-positive close 0 for SPY on 2025-01-03; a price must be > 0"),
    ("text close on the EventStudy path (was dropped)",
     lambda ctx: price_series(_tidy("SPY", [1.0, "n.a.", 2.0])),
     "prices, row 2: close 'n.a.' is not a number; fix the cell or leave it empty for a missing price"),
    ("text close in a wide frame", lambda ctx: ReturnPanel.from_prices(
        pd.DataFrame({"SPY": [1.0, "x"]}, index=pd.DatetimeIndex(["2025-01-02", "2025-01-03"]))),
     "prices, row 2: SPY 'x' is not a number"),
    ("text in a given returns frame (was dropped)", lambda ctx: ReturnPanel.from_returns(
        pd.DataFrame({"SPY": [0.01, "oops"]}, index=pd.DatetimeIndex(["2025-01-02", "2025-01-03"]))),
     "returns, row 2: SPY 'oops' is not a number"),
    ("inf in an all-float returns frame (the split without a check per column)",
     lambda ctx: ReturnPanel.from_returns(pd.DataFrame(
         {"SPY": [0.01, 0.02], "QQQ": [0.01, np.inf]}, index=pd.DatetimeIndex(["2025-01-02", "2025-01-03"]))),
     "returns, row 2: infinite QQQ inf for QQQ on 2025-01-03"),
    ("empty cells stay missing prices, not errors",
     lambda ctx: price_series(_tidy("SPY", [1.0, None, 2.0]))["SPY"].reset_index(),
     _dates_are("2025-01-02", "2025-01-06")),
    # 4. gaps: flagged per return, in the estimation_exclusions shape
    ("QQQ missing Jun-Dec 2024: one return spanning 148 sessions",
     lambda ctx: gap_returns(_qqq_without_second_half_2024()), _one_gap("QQQ", "2025-01-02", 148)),
    ("spans_gap flag on the ReturnPanel", lambda ctx: ReturnPanel.from_prices(_qqq_without_second_half_2024()),
     _qqq_gap_flag),
    ("one missing session", lambda ctx: gap_returns(_tidy("SPY", [1.0, 2.0, 3.0]).drop(index=1)),
     _one_gap("SPY", "2025-01-06", 2)),
    ("a holiday is not a gap (2025-01-09, 2025-01-20 NYSE closed)",
     lambda ctx: gap_returns(datasets.load_prices(["SPY"]).query("'2025-01-06' <= date <= '2025-01-31'")),
     _no_gaps),
    # 1. empty yfinance replies never mark a range as covered
    ("empty yfinance reply", lambda ctx: _fetch_reply(ctx, _empty_reply("empty")),
     "could not get 1 symbol(s): WEAT (yahoo returned no rows for 2025-04-25..2025-05-23 although XNYS has "
     "21 session(s) in it; check the symbol or try again later; nothing cached)"),
    ("None yfinance reply", lambda ctx: _fetch_reply(ctx, _empty_reply("none")),
     "WEAT (yahoo returned no rows for 2025-04-25..2025-05-23 although XNYS has 21 session(s)"),
    ("all-NaN-close yfinance reply", lambda ctx: _fetch_reply(ctx, _empty_reply("nan")),
     "WEAT (yahoo returned no rows for 2025-04-25..2025-05-23"),
    ("after an empty reply the next fetch asks again", _empty_then_real, _asked_again),
    ("empty reply for an incremental range: not covered", _empty_incremental, _incremental_not_covered),
    ("empty reply for a weekend is covered (no sessions)",
     lambda ctx: _fetch_reply(ctx, _empty_reply("empty"), start="2025-05-17", end="2025-05-18"), _weekend_is_covered),
    ("reply ending before the range end covers up to its last row",
     lambda ctx: _fetch_reply(ctx, _recorded_reply(last="2025-05-21")), _stops_early),
    # 3. through yfinance and the cache
    ("UTC-indexed yfinance reply for 000001_SS, through the cache",
     lambda ctx: _fetch_reply(ctx, _recorded_reply(tz="UTC"), symbols=["000001_SS"]), _shanghai_dates),
    # 5. tracebacks turned into one-line errors
    ("Latin-1 CSV catalog", lambda ctx: load_catalog(_csv(ctx, (CATALOG_HEAD + "E1,2025-04-02,America/New_York,US,"
                                                                "tariff,escalation,Tarif d\xe9cid\xe9,x,high\n")
                                                               .encode("latin-1"), "cat.csv")),
     "cat.csv: line 2: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    ("Latin-1 YAML catalog", lambda ctx: load_catalog(_csv(ctx, "events:\n  - title: caf\xe9\n".encode("cp1252"),
                                                           "cat.yaml")),
     "cat.yaml: line 2: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    ("empty price CSV", lambda ctx: load_price_file(_csv(ctx, "")),
     "prices.csv: empty file; a price file needs a header row (date, close) and data rows"),
    ("blank-lines-only price CSV", lambda ctx: load_price_file(_csv(ctx, "\n\n")), "prices.csv: empty file"),
    ("IMPACT_CACHE_DIR is a file", _cache_dir_is_a_file,
     "afile is a file, not a folder; set IMPACT_CACHE_DIR (or --cache-dir) to a folder"),
    ("read-only cache folder, data already cached", _read_only_cache, _served_from_cache),
    ("read-only cache folder, a download needed", lambda ctx: _read_only_cache(ctx, start="2025-04-01"),
     "is not writable (Permission denied): cannot store WEAT for 2025-04-01..2025-05-23; make it writable, "
     "set IMPACT_CACHE_DIR (or --cache-dir) to a writable folder, or pass --offline"),
    ("string cell in a yfinance frame fails that symbol only",
     lambda ctx: _fetch_reply(ctx, _string_cell, symbols=["WEAT", "ZS_F"]),
     "could not get 1 symbol(s): WEAT (yfinance WEAT, row 3: close 'abc' is not a number; fix the cell or leave "
     "it empty for a missing price); cached and returned: ZS_F"),
    ("start 'yesterday'", lambda ctx: PriceCache(ctx.tmp_path).fetch(["SPY"], "yesterday", None, _yahoo()),
     "start 'yesterday' is not a date; give it as YYYY-MM-DD"),
    # 6. naive instants in an events frame
    ("naive 'instant' column in an events frame",
     lambda ctx: instants_from_frame(pd.DataFrame({"event_id": ["E1"], "instant": pd.to_datetime(["2025-04-02 16:00"])})),
     "events frame: column 'instant' has no time zone (row 0, event E1: 2025-04-02 16:00:00); give tz-aware "
     "timestamps or date+timezone columns"),
    ("naive instant strings", lambda ctx: instants_from_frame(pd.DataFrame({"event_id": ["E1", "E2"], "instant": [
        "2025-04-02T16:00-04:00", "2025-04-03 09:00"]})),
     "column 'instant' has no time zone (row 1, event E2: 2025-04-03 09:00)"),
    ("tz-aware instants across a DST change", lambda ctx: instants_from_frame(pd.DataFrame({
        "event_id": ["E1", "E2"], "instant": ["2024-03-08T16:00-05:00", "2024-03-11T16:00-04:00"]})),
     _utc_of("2024-03-08 21:00", "2024-03-11 20:00")),
    ("tz-aware datetime column", lambda ctx: instants_from_frame(pd.DataFrame({
        "event_id": ["E1"], "instant": pd.to_datetime(["2025-04-02 16:00"]).tz_localize("America/New_York")})),
     _utc_of("2025-04-02 20:00")),
]


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    return SimpleNamespace(tmp_path=tmp_path, monkeypatch=monkeypatch, rng=random.Random(0))


@pytest.mark.parametrize("description, run, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(description, run, expected, ctx):
    check(run, expected, ctx)


@pytest.mark.parametrize("argv, message", [
    (["data", "fetch", "SPY", "--start", "yesterday"], "impact: error: --start 'yesterday' is not a date; "
                                                       "give it as YYYY-MM-DD"),
    (["data", "list", "--cache-dir", "{file}"], "is a file, not a folder; set IMPACT_CACHE_DIR (or --cache-dir)"),
])
def test_cli_one_line_and_exit_2(argv, message, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    argv = [a.replace("{file}", str(tmp_path / "afile")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
