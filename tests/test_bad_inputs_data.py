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

from impact import datasets
from impact.data import ReturnPanel, gap_returns, load_price_file, price_series, validate_prices
from impact.errors import ImpactError
from impact.yahoo import normalize_download

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
]


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    return SimpleNamespace(tmp_path=tmp_path, monkeypatch=monkeypatch, rng=random.Random(0))


@pytest.mark.parametrize("description, run, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(description, run, expected, ctx):
    if isinstance(expected, str):
        with pytest.raises(ImpactError) as err:
            run(ctx)
        message = str(err.value)
        assert expected in message
        assert "\n" not in message
    else:
        expected(run(ctx))
