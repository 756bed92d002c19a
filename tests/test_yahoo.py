"""The yfinance adapter against recorded responses (tests/recorded/, no network).

The test double replaces only the network-facing call: ``Ticker.history`` inside
``yfinance.multi`` (one per ticker, as yfinance's own ``download`` calls it), or
``yfinance.download`` itself. yfinance's real ``download`` code builds the column
layouts (concat, swaplevel, multi_level_index), and everything after is our code.
"""
from __future__ import annotations

import json
import random
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yfinance
import yfinance.multi
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError

from impact.data.cache import PriceCache
from impact.data.quality import check_prices
from impact.data.yahoo import YahooSource, normalize_download
from impact.errors import DataError

RECORDED = Path(__file__).resolve().parent / "recorded"


def _recorded(ticker: str) -> dict:
    name = "SPY_gaps" if ticker == "SPY" else ticker
    return json.loads((RECORDED / f"history_{name}.json").read_text())


def _history_frame(ticker: str, start=None, end=None, auto_adjust=False) -> pd.DataFrame:
    """A recorded response as yfinance's Ticker.history returns it (end exclusive)."""
    rec = _recorded(ticker)
    index = pd.DatetimeIndex(pd.to_datetime(rec["index"])).tz_localize(rec["timezone"])
    index.name = "Date"
    frame = pd.DataFrame(rec["data"], index=index, columns=rec["columns"], dtype=float)
    local = index.tz_localize(None)
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= local >= pd.Timestamp(start)
    if end is not None:
        keep &= local < pd.Timestamp(end)  # yfinance's end is exclusive
    frame = frame[keep]
    if auto_adjust:  # what yfinance's auto_adjust does: scale OHLC by Adj Close / Close
        ratio = frame["Adj Close"] / frame["Close"]
        frame = frame.drop(columns="Adj Close")
        for c in ("Open", "High", "Low", "Close"):
            frame[c] = frame[c] * ratio
    return frame


class FakeNetwork:
    """Stands in for Yahoo: scripted failures per ticker, then the recorded response."""

    def __init__(self, failures: dict[str, list[Exception]] | None = None):
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.calls: list[tuple[str, dict]] = []
        outer = self

        class Ticker:
            def __init__(self, ticker):
                self.ticker = ticker
                self._price_history = None

            def history(self, **kw):
                outer.calls.append((self.ticker, kw))
                pending = outer.failures.get(self.ticker)
                if pending:
                    raise pending.pop(0)
                if not (RECORDED / f"history_{'SPY_gaps' if self.ticker == 'SPY' else self.ticker}.json").exists():
                    raise YFPricesMissingError(self.ticker, "(1d 2025-04-25 -> 2025-05-24)")
                return _history_frame(self.ticker, kw.get("start"), kw.get("end"), kw.get("auto_adjust"))

        self.Ticker = Ticker


@pytest.fixture
def network(monkeypatch):
    def install(failures=None):
        fake = FakeNetwork(failures)
        monkeypatch.setattr(yfinance.multi, "Ticker", fake.Ticker)
        return fake
    warnings.filterwarnings("ignore", module="yfinance")
    return install


def _source(**kw) -> YahooSource:
    delays = []
    src = YahooSource(sleep=delays.append, rng=random.Random(0), **kw)
    src.slept = delays
    return src


def _expected(ticker: str) -> pd.DataFrame:
    rec = _recorded(ticker)
    return pd.DataFrame(rec["data"], index=pd.to_datetime(rec["index"]), columns=rec["columns"], dtype=float)


def test_single_ticker_default_layout(network):
    fake = network()
    got = _source().fetch(["ZS_F"], "2025-04-25", "2025-05-23")
    assert got.failed == {}
    prices = got.prices
    exp = _expected("ZS=F")
    assert list(prices["symbol"].unique()) == ["ZS_F"]
    assert list(prices["date"]) == list(exp.index)
    np.testing.assert_array_equal(prices["close"], exp["Close"])
    np.testing.assert_array_equal(prices["volume"], exp["Volume"])
    # auto_adjust is always explicit (its default changed in yfinance 0.2.51)
    assert all(kw["auto_adjust"] is False for _, kw in fake.calls)


def test_inclusive_end_is_translated_to_yfinance_exclusive_end(network):
    network()
    got = _source().fetch(["ZW_F"], "2025-05-12", "2025-05-15").prices
    assert list(got["date"].dt.strftime("%Y-%m-%d")) == ["2025-05-12", "2025-05-13", "2025-05-14", "2025-05-15"]
    assert got.set_index("date").loc["2025-05-15", "close"] == 532.75  # the roll day itself


def test_many_tickers_different_calendars_no_padding_and_local_dates(network):
    network()
    got = _source().fetch(["ZS_F", "WEAT", "000001.SS"], "2025-04-25", "2025-05-23").prices
    for ticker, symbol in (("ZS=F", "ZS_F"), ("WEAT", "WEAT"), ("000001.SS", "000001.SS")):
        exp = _expected(ticker)
        rows = got[got["symbol"] == symbol]
        # yfinance pads every ticker onto the union of dates; padded rows must not survive
        assert list(rows["date"]) == list(exp.index), symbol
        np.testing.assert_array_equal(rows["close"], exp["Close"])
    shanghai = got[got["symbol"] == "000001.SS"]["date"]
    assert pd.Timestamp("2025-05-02") not in set(shanghai)  # Labour Day holiday stays missing
    assert pd.Timestamp("2025-05-06") in set(shanghai)      # Shanghai-local date, not shifted to UTC


@pytest.mark.parametrize("options", [dict(group_by="ticker"), dict(group_by="column"),
                                     dict(multi_level_index=False)])
def test_both_column_layouts_normalise_identically(network, options):
    network()
    tickers = ["ZS=F"] if options.get("multi_level_index") is False else ["ZS=F", "WEAT"]
    frame = yfinance.download(tickers, start="2025-04-25", end="2025-05-24", auto_adjust=False,
                              progress=False, threads=False, **options)
    if options.get("multi_level_index") is False:
        assert not isinstance(frame.columns, pd.MultiIndex)
    else:
        assert frame.columns.names == (["Ticker", "Price"] if options["group_by"] == "ticker" else ["Price", "Ticker"])
    tidy = normalize_download(frame, tickers)
    for t in tickers:
        rows = tidy[tidy["symbol"] == t]
        exp = _expected(t)
        np.testing.assert_array_equal(rows["close"], exp["Close"])
        np.testing.assert_array_equal(rows["adj_close"], exp["Adj Close"])
        np.testing.assert_array_equal(rows["high"], exp["High"])


def test_tz_aware_index_keeps_exchange_local_date():
    frame = _history_frame("000001.SS")  # tz-aware, Asia/Shanghai midnight = previous day in UTC
    tidy = normalize_download(frame, ["000001.SS"])
    assert tidy["date"].iloc[0] == pd.Timestamp("2025-04-25")
    assert frame.index[0].tz_convert("UTC").day == 24


def test_auto_adjust_true_is_passed_and_has_no_adj_close(network):
    fake = network()
    got = _source(auto_adjust=True).fetch(["WEAT"], "2025-04-25", "2025-05-23").prices
    assert fake.calls[0][1]["auto_adjust"] is True
    assert got["adj_close"].isna().all()
    exp = _expected("WEAT")
    np.testing.assert_allclose(got["close"], exp["Adj Close"], rtol=1e-12)


def test_rate_limit_then_success_retries_with_backoff(network):
    fake = network({"ZS=F": [YFRateLimitError(), YFRateLimitError()]})
    src = _source(base_delay=2.0)
    got = src.fetch(["ZS_F", "WEAT"], "2025-04-25", "2025-05-23")
    assert got.failed == {}
    assert got.attempts == 3
    assert sorted(got.prices["symbol"].unique()) == ["WEAT", "ZS_F"]
    # only the rate-limited ticker is asked again
    assert [t for t, _ in fake.calls].count("WEAT") == 1
    assert [t for t, _ in fake.calls].count("ZS=F") == 3
    # exponential backoff with jitter: attempt k waits U(0.5, 1) x 2 x 2^k seconds
    assert len(src.slept) == 2
    assert 1.0 <= src.slept[0] <= 2.0 and 2.0 <= src.slept[1] <= 4.0
    assert src.slept == got.delays


def test_rate_limit_forever_gives_up_naming_the_symbol(network):
    network({"ZS=F": [YFRateLimitError()] * 10})
    got = _source(retries=3).fetch(["ZS_F", "WEAT"], "2025-04-25", "2025-05-23")
    assert set(got.failed) == {"ZS_F"}
    assert "Too Many Requests" in got.failed["ZS_F"] and "after 4 attempts" in got.failed["ZS_F"]
    assert list(got.prices["symbol"].unique()) == ["WEAT"]


def test_permanent_failure_of_one_symbol_is_not_retried_and_the_rest_is_cached(network, tmp_path):
    fake = network()
    src = _source()
    report = PriceCache(tmp_path).fetch(["ZS_F", "NOPE=F", "WEAT"], "2025-04-25", "2025-05-23", src)
    assert set(report.failed) == {"NOPE=F"}
    assert "no price data found" in report.failed["NOPE=F"] or "delisted" in report.failed["NOPE=F"]
    assert [t for t, _ in fake.calls].count("NOPE=F") == 1  # permanent: no retry
    assert src.slept == []
    cached = PriceCache(tmp_path).entries()
    assert sorted(cached["symbol"]) == ["WEAT", "ZS_F"]
    with pytest.raises(DataError, match=r"NOPE=F .*cached and returned: WEAT, ZS_F") as err:
        report.raise_for_failures()
    assert "\n" not in str(err.value)


def test_empty_range_is_not_a_failure(network):
    network()
    got = _source().fetch(["ZS_F"], "2025-05-17", "2025-05-18")  # a weekend
    assert got.failed == {} and got.prices.empty
    assert normalize_download(pd.DataFrame(), ["ZS=F"]).empty
    assert list(normalize_download(None, []).columns)[:3] == ["date", "symbol", "open"]


def test_ticker_with_gaps_stays_gappy_and_quality_reports_it(network):
    network()
    got = _source().fetch(["SPY", "WEAT"], "2025-04-25", "2025-05-23").prices
    spy = got[got["symbol"] == "SPY"]
    assert len(spy) == len(got[got["symbol"] == "WEAT"]) - 2
    assert not set(spy["date"]) & {pd.Timestamp("2025-05-07"), pd.Timestamp("2025-05-08")}
    findings = check_prices(got)
    missing = findings[(findings["symbol"] == "SPY") & (findings["issue"] == "missing_session")]
    assert list(missing["date"].dt.strftime("%Y-%m-%d")) == ["2025-05-07", "2025-05-08"]


def test_whole_batch_exception_from_download_is_retried(monkeypatch):
    """yfinance.download itself replaced: a connection error twice, then the recorded frame."""
    frame = pd.concat({"Close": _history_frame("ZS=F")[["Close"]].rename(columns={"Close": "ZS=F"})}, axis=1)
    frame.columns.names = ["Price", "Ticker"]
    frame.index = frame.index.tz_localize(None)
    outcomes = [ConnectionError("Connection reset by peer"), TimeoutError("timed out"), frame]

    def fake_download(*args, **kwargs):
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        return out

    monkeypatch.setattr(yfinance, "download", fake_download)
    src = _source()
    got = src.fetch(["ZS_F"], "2025-04-25", "2025-05-23")
    assert got.failed == {} and got.attempts == 3 and len(src.slept) == 2
    np.testing.assert_array_equal(got.prices["close"], _expected("ZS=F")["Close"])


def test_symbol_without_yahoo_ticker_is_a_clear_error():
    with pytest.raises(DataError, match="DEXCHUS: no Yahoo ticker"):
        YahooSource().fetch(["DEXCHUS"])


def test_cli_fetch_then_offline_then_check_from_the_cache(network, tmp_path, capsys, monkeypatch):
    import impact.data.yahoo
    from impact.cli.main import main

    slept = []
    monkeypatch.setattr(impact.data.yahoo, "time", SimpleNamespace(sleep=slept.append))  # backoff without waiting

    fake = network()
    args = ["--start", "2025-04-25", "--end", "2025-05-23", "--cache-dir", str(tmp_path)]
    assert main(["data", "fetch", "ZW_F", "WEAT", *args]) == 0
    out = capsys.readouterr().out
    assert "ZW_F: fetched 2025-04-25..2025-05-23; 21 rows in range" in out
    n_calls = len(fake.calls)
    assert main(["data", "fetch", "ZW_F", "WEAT", "--offline", *args]) == 0
    assert len(fake.calls) == n_calls and "up to date in cache" in capsys.readouterr().out
    assert main(["data", "check", "--source", "cache", "--format", "csv", "--cache-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("symbol,date,issue")
    assert any(line.startswith("ZW_F,2025-05-15,roll,") for line in lines)
    network({"ZS=F": [YFRateLimitError()] * 10})
    assert main(["data", "fetch", "ZS_F", "SPY", *args[:4], "--cache-dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("impact: error: could not get 1 symbol(s): ZS_F (") and "Too Many Requests" in err
    assert "cached and returned: SPY" in err and "\n" not in err
    assert len(slept) == 4  # the default 4 retries, with backoff


def test_bad_values_fail_only_that_symbol(network, monkeypatch):
    network()
    real = _history_frame

    def with_negative(ticker, *a, **k):
        frame = real(ticker, *a, **k)
        if ticker == "ZC=F":  # a negative settlement, as CL=F printed on 2020-04-20
            frame.loc[frame.index[3], "Close"] = -37.63
        return frame

    monkeypatch.setitem(globals(), "_history_frame", with_negative)
    got = _source().fetch(["ZC_F", "ZW_F"], "2025-04-25", "2025-05-23")
    assert list(got.prices["symbol"].unique()) == ["ZW_F"]
    assert got.failed["ZC_F"] == ("yfinance ZC=F, row 4: non-positive close -37.63 for ZC_F on 2025-04-30; "
                                  "a price must be > 0: fix the cell or leave it empty for a missing price")
