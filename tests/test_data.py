"""Sources behind one interface, the validated tidy shape, and users' own price files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact import datasets
from impact.cli.main import main
from impact.data.files import load_price_file
from impact.data.load import load_prices
from impact.data.prices import TIDY_COLUMNS, validate_prices
from impact.data.returns import ReturnPanel
from impact.data.sources import BundledSource, FileSource, FrameSource, get_source
from impact.errors import DataError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BAD_FILES = {
    "bad_date.csv": ("date,close\n2025-01-02,100\n2025-01-03,101\n2025-02-30,102\n",
                     r"bad_date\.csv, row 3 \(line 4\): unparseable date '2025-02-30' in column 'date'"),
    "duplicated.csv": ("date,close\n2025-01-02,100\n2025-01-03,101\n2025-01-02,102\n",
                       r"duplicated\.csv, row 3 \(line 4\): duplicated date 2025-01-02 for duplicated"),
    "negative.csv": ("date,open,close\n2025-01-02,100,100\n2025-01-03,101,-101\n",
                     r"negative\.csv, row 2 \(line 3\): non-positive close -101 for negative on 2025-01-03"),
    "no_close.csv": ("date,open,volume\n2025-01-02,100,5\n",
                     r"no_close\.csv, header: no close column"),
    "text_price.csv": ("date,close\n2025-01-02,100\n2025-01-03,n.a.\n",
                       r"text_price\.csv, row 2 \(line 3\): close 'n\.a\.' is not a number"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_give_one_line_errors_naming_file_row_and_problem(tmp_path, name):
    text, pattern = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=pattern) as err:
        load_price_file(path)
    assert "\n" not in str(err.value)


def test_bad_file_on_the_cli_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "negative.csv"
    path.write_text(BAD_FILES["negative.csv"][0])
    assert main(["data", "check", "--source", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"impact: error: {path}, row 2 (line 3): non-positive close")


def test_unknown_symbol_is_named_for_every_source(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("symbol,date,close\nAAA,2025-01-02,1\nBBB,2025-01-02,2\n")
    with pytest.raises(DataError, match=r"two\.csv: unknown symbol\(s\) ZZZ \(the file has: AAA, BBB\)"):
        load_price_file(path, symbols=["AAA", "ZZZ"])
    with pytest.raises(DataError, match=r"unknown symbol\(s\) ZZZ in bundled"):
        load_prices(["SPY", "ZZZ"])
    with pytest.raises(DataError, match=r"unknown symbol\(s\) ZZZ in frame"):
        load_prices(["ZZZ"], source=pd.DataFrame({"date": ["2025-01-02"], "symbol": ["AAA"], "close": [1.0]}))


def test_exports_with_vendor_headers(tmp_path):
    bbg = tmp_path / "copper.csv"
    bbg.write_text("Dates;PX_OPEN;PX_LAST;PX_VOLUME\n02/01/2025;4.01;4.05;1200\n03/01/2025;4.05;4.10;900\n")
    got = load_price_file(bbg, symbol="HG_F", dayfirst=True)
    assert list(got["date"].dt.strftime("%Y-%m-%d")) == ["2025-01-02", "2025-01-03"]
    assert got["close"].tolist() == [4.05, 4.10] and got["volume"].tolist() == [1200, 900]
    assert got["exchange"].iloc[0] == datasets.load_prices(["HG_F"])["exchange"].iloc[0]  # registry metadata
    yf_csv = tmp_path / "zs.csv"  # yfinance DataFrame.to_csv of a one-ticker download: 3 header lines
    yf_csv.write_text("Price,Close,High,Low,Open,Volume\nTicker,ZS=F,ZS=F,ZS=F,ZS=F,ZS=F\nDate,,,,,\n"
                      "2025-05-14,1067.0,1070.0,1060.0,1066.0,124910\n2025-05-15,1051.25,1068.0,1050.0,1066.0,172955\n")
    got = load_price_file(yf_csv)
    assert got["symbol"].unique().tolist() == ["ZS_F"] and got["close"].tolist() == [1067.0, 1051.25]
    yf_csv.write_text(yf_csv.read_text().replace("2025-05-15,1051.25", "2025-05-15,oops"))
    with pytest.raises(DataError, match=r"zs\.csv, row 2 \(line 5\): close 'oops'"):
        load_price_file(yf_csv)


def test_parquet_file_and_frame_sources_match_the_bundled_sample(tmp_path):
    bundled = datasets.load_prices(["SPY", "ZW_F"])
    path = tmp_path / "mine.parquet"
    bundled[list(TIDY_COLUMNS)].to_parquet(path)
    from_file = load_prices(["ZW_F", "SPY"], source=path, start="2025-05-01", end="2025-05-31")
    from_frame = load_prices(["ZW_F", "SPY"], source=bundled[list(TIDY_COLUMNS)], start="2025-05-01", end="2025-05-31")
    from_bundle = load_prices(["ZW_F", "SPY"], start="2025-05-01", end="2025-05-31")
    for got in (from_file, from_frame):
        pd.testing.assert_frame_equal(got, from_bundle)
    assert list(from_bundle.columns) == [*TIDY_COLUMNS, "asset_class", "exchange", "currency"]
    assert from_bundle.set_index(["symbol", "date"]).loc[("ZW_F", pd.Timestamp("2025-05-15")), "close"] == 532.75


def test_get_source_dispatch(tmp_path):
    assert isinstance(get_source(None), BundledSource) and isinstance(get_source("bundled"), BundledSource)
    assert get_source("yahoo").name == "yahoo"
    assert isinstance(get_source(pd.DataFrame({"date": ["2025-01-02"], "symbol": ["A"], "close": [1.0]})), FrameSource)
    path = tmp_path / "a.csv"
    path.write_text("date,close\n2025-01-02,1\n")
    assert isinstance(get_source(str(path)), FileSource)
    with pytest.raises(DataError, match="unknown price source 'bloomberg'"):
        get_source("bloomberg")


def test_yahoo_source_offline_reads_only_the_cache(tmp_path):
    with pytest.raises(DataError, match=r"SPY \(offline and not cached"):
        load_prices(["SPY"], source="yahoo", start="2025-01-02", end="2025-01-31", offline=True, cache_dir=tmp_path)


def test_validate_prices_keeps_local_dates_and_drops_empty_closes():
    frame = pd.DataFrame({
        "Date": pd.DatetimeIndex(["2025-05-06", "2025-05-07", "2025-05-08"]).tz_localize("Asia/Shanghai"),
        "Ticker": "000001_SS", "Close": [3316.11, np.nan, 3352.0]})
    got = validate_prices(frame, origin="test")
    assert list(got["date"].dt.strftime("%Y-%m-%d")) == ["2025-05-06", "2025-05-08"]
    assert got["currency"].iloc[0] == "CNY"


def test_shared_price_files_load_identically_to_the_bundle():
    if not (SHARED / "data" / "prices").is_dir():
        pytest.skip("../shared is not beside the project root")
    for symbol in ("ZS_F", "DEXCHUS", "USDCNY_X"):
        got = load_price_file(SHARED / "data" / "prices" / f"{symbol}.csv")
        exp = datasets.load_prices([symbol])
        assert got["symbol"].unique().tolist() == [symbol]
        np.testing.assert_array_equal(got["close"].to_numpy(), exp["close"].to_numpy())
        assert list(got["date"]) == list(exp["date"])


def test_float_returns_frame_split_once_equals_the_checked_path():
    """SYNTHETIC returns: the all-float frame is split without a check per column and every asset
    shares the frame's one index; values and dates equal the per-column checked path (object cells)."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(0, 0.01, (40, 3)), columns=["A", "B", "C"],
                         index=pd.bdate_range("2024-01-01", periods=40))
    frame.iloc[[3, 17], 1] = np.nan
    fast = ReturnPanel.from_returns(frame)
    checked = ReturnPanel.from_returns(frame.astype(object))
    assert len({id(s.index) for s in fast.returns.values()}) == 1
    assert len({id(s.index) for s in checked.returns.values()}) == 3
    for name in "ABC":
        pd.testing.assert_series_equal(fast.returns[name], checked.returns[name], check_exact=True)
    assert fast.returns["B"].isna().sum() == 2


def test_returns_block_is_the_panels_own_and_its_series_are_made_on_demand():
    """SYNTHETIC returns: the panel copies the caller's block once (a later edit of the frame does not
    reach the study), makes a Series only when one is read, and behaves as a dict when set or deleted."""
    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3) / 100, columns=["A", "B", "C"],
                         index=pd.bdate_range("2024-01-01", periods=4))
    panel = ReturnPanel.from_returns(frame)
    frame.iloc[0, 0] = 9.0
    values, index = panel.column("A")
    assert values[0] == 0.0 and index.equals(frame.index)
    assert panel.returns._made == {}  # read as arrays: no Series made
    assert panel.returns["A"].iloc[0] == 0.0 and list(panel.returns) == ["A", "B", "C"]
    panel.returns["B"] = panel.returns["B"].iloc[:2]
    assert len(panel.column("B")[0]) == 2 and len(panel.index_of("B")) == 2
    found = panel.indexes(["A", "B", "Z"])
    assert list(found) == ["A", "B"] and found["A"] is index and len(found["B"]) == 2
    checked = ReturnPanel.from_returns(frame.astype(object))  # a dict of Series: the same answers
    assert list(checked.indexes(["C", "Z", "A"])) == ["C", "A"] and checked.indexes(["A"])["A"].equals(frame.index)
    del panel.returns["C"]
    assert panel.symbols == ["A", "B"] and "C" not in panel.returns
    with pytest.raises(KeyError):
        panel.column("C")
