"""Futures roll days: detection on the real bundled series, and their exclusion from estimation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact import EventStudy, datasets
from impact.data.prices import price_series
from impact.data.returns import benchmark_returns, period_returns
from impact.data.rolls import RULES, detect_rolls, in_roll_window, load_roll_calendar, product_root
from impact.errors import DataError

FUTURES = ["ZS_F", "ZW_F", "ZC_F", "HG_F", "GC_F", "CT1"]


@pytest.fixture(scope="module")
def futures():
    return datasets.load_prices([*FUTURES, "GSPC", "WEAT", "SPY"])


@pytest.fixture(scope="module")
def rolls(futures):
    return detect_rolls(futures)


def _flagged(rolls, symbol):
    return set(rolls.loc[rolls["symbol"] == symbol, "date"].dt.strftime("%Y-%m-%d"))


def test_may_2025_grain_roll_is_flagged(rolls, futures):
    # SOURCES.md roll note: Yahoo rolls on 2025-05-14/15; ZW_F +4.72% on 05-15 vs WEAT +1.35%
    for symbol in ("ZS_F", "ZW_F", "ZC_F"):
        assert {"2025-05-14", "2025-05-15"} <= _flagged(rolls, symbol), symbol
    row = rolls[(rolls["symbol"] == "ZW_F") & (rolls["date"] == "2025-05-15")].iloc[0]
    assert np.expm1(row["ret"]) == pytest.approx(0.0472, abs=5e-4)
    weat = futures[futures["symbol"] == "WEAT"].set_index("date")["close"]
    assert weat.pct_change().loc["2025-05-15"] == pytest.approx(0.0135, abs=5e-4)
    # The expiring-contract days before it (2025-05-12 Geneva truce) are not roll days
    assert "2025-05-12" not in _flagged(rolls, "ZW_F")


def test_documented_roll_artifacts_are_flagged(rolls):
    # SOURCES.md: ZS 2022-07-15 / 2022-08-15, ZC 2021-07-15 / 2022-07-15, ZS+ZC roll 2019-05-14, CT1 2022-06-15
    assert {"2022-07-15", "2022-08-15", "2019-05-14"} <= _flagged(rolls, "ZS_F")
    assert {"2021-07-15", "2022-07-15", "2019-05-14"} <= _flagged(rolls, "ZC_F")
    assert "2022-06-15" in _flagged(rolls, "CT1")


def test_real_news_moves_outside_roll_windows_are_not_rolls(rolls):
    # SOURCES.md: copper +13.25% on 2025-07-08 and -22.25% on 2025-07-31 are real
    assert not {"2025-07-08", "2025-07-31"} & _flagged(rolls, "HG_F")
    assert rolls["symbol"].isin(FUTURES).all()  # GSPC, WEAT, SPY: no cycle, never flagged
    # about one roll per listed contract month and year (two sessions each) for the volume vendors
    per_year = rolls[rolls["method"] == "volume_switch"].groupby("symbol").size() / 9
    assert per_year["ZS_F"] == pytest.approx(len(RULES["ZS"].cycle), abs=1.0)
    assert per_year["ZC_F"] == pytest.approx(len(RULES["ZC"].cycle), abs=1.0)


def test_roll_windows_and_roots():
    assert product_root("ZS_F") == "ZS" and product_root("CT1") == "CT" and product_root("HG=F") == "HG"
    assert product_root("SPY") is None
    days = pd.DatetimeIndex(["2025-05-14", "2025-06-14", "2025-12-31", "2025-03-25"])
    assert in_roll_window(days, RULES["ZW"]).tolist() == [True, False, False, False]
    assert in_roll_window(days, RULES["GC"]).tolist() == [False, False, False, True]  # before April (J)


def test_synthetic_gap_flagged_only_inside_a_roll_window():
    """Synthetic (labelled): a flat-volatility corn series with two 6% jumps."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", "2024-12-31")
    ret = rng.normal(0, 0.01, len(dates))
    jump_in = dates.get_loc(pd.Timestamp("2024-07-15"))    # July contract roll window
    jump_out = dates.get_loc(pd.Timestamp("2024-10-15"))   # October: no corn contract month
    ret[jump_in] = ret[jump_out] = 0.06
    frame = pd.DataFrame({"date": dates, "symbol": "ZC_F", "close": 400 * np.exp(np.cumsum(ret))})
    got = detect_rolls(frame)
    assert list(got["date"].dt.strftime("%Y-%m-%d")) == ["2024-07-15"]
    assert got["method"].iloc[0] == "gap" and got["score"].iloc[0] > 4


def _pair(prices, asset):
    closes = price_series(prices)
    r = period_returns(closes[asset])
    return r, benchmark_returns(closes["GSPC"], r.index)


def test_estimation_excludes_the_may_2025_roll(futures, rolls):
    events = pd.DataFrame({"event_id": ["oct"], "asset": ["ZW_F"], "date": ["2025-10-10"]})
    auto = EventStudy(futures, events, market="GSPC").fit()
    plain = EventStudy(futures, events, market="GSPC", roll_days=None).fit()
    r, m = _pair(futures, "ZW_F")
    p0 = r.index.get_loc(pd.Timestamp("2025-10-10"))
    window = r.index[p0 - 260: p0 - 10]
    assert pd.Timestamp("2025-05-15") in window
    roll_days = pd.DatetimeIndex(rolls.loc[rolls["symbol"] == "ZW_F", "date"]).intersection(window)
    assert pd.Timestamp("2025-05-15") in roll_days
    est = pd.DataFrame({"y": r.loc[window], "x": m.loc[window]}).drop(index=roll_days).dropna()
    fit = sm.OLS(est["y"], sm.add_constant(est["x"])).fit()
    row = auto.params.iloc[0]
    assert row.n_masked == len(roll_days)
    assert row.n_obs == len(est) == plain.params["n_obs"].iloc[0] - len(roll_days)
    assert row.beta == pytest.approx(fit.params["x"], abs=1e-10)
    assert row.sigma ** 2 == pytest.approx(fit.mse_resid, rel=1e-10)
    assert plain.params["sigma"].iloc[0] > row.sigma  # the fake roll returns inflated the variance


def test_roll_days_inside_an_event_window_are_flagged(futures):
    events = pd.DataFrame({"event_id": ["geneva"], "asset": ["ZW_F"], "date": ["2025-05-12"]})
    result = EventStudy(futures, events, market="GSPC").fit()
    flags = result.alignment["flags"].iloc[0].split(";")
    assert {"roll@+2", "roll@+3"} <= set(flags)  # 2025-05-14 and 2025-05-15
    assert "roll" not in EventStudy(futures, events, market="GSPC", roll_days=None).fit().alignment["flags"].iloc[0]


def test_user_roll_calendar_frame_and_csv(futures, tmp_path):
    events = pd.DataFrame({"event_id": ["oct"], "asset": ["ZW_F"], "date": ["2025-10-10"]})
    mine = pd.DataFrame({"symbol": ["ZW_F", "ZW_F"], "date": ["2025-05-15", "2025-03-14"]})
    res = EventStudy(futures, events, market="GSPC", roll_days=mine).fit()
    assert res.params["n_masked"].iloc[0] == 2
    path = tmp_path / "rolls.csv"
    mine.to_csv(path, index=False)
    assert EventStudy(futures, events, market="GSPC", roll_days=str(path)).fit().params["n_masked"].iloc[0] == 2
    path.write_text("symbol,date\nZW_F,2025-05-15\nZW_F,soon\n")
    with pytest.raises(DataError, match=r"rolls\.csv, row 2: unparseable date 'soon'"):
        load_roll_calendar(path)
    with pytest.raises(DataError, match="needs columns symbol, date"):
        load_roll_calendar(pd.DataFrame({"when": ["2025-05-15"]}))


def test_wide_prices_use_the_gap_test(futures):
    wide = futures.pivot(index="date", columns="symbol", values="close")[["ZC_F", "GSPC"]]
    events = pd.DataFrame({"event_id": ["e"], "asset": ["ZC_F"], "date": ["2022-07-20"]})
    tidy_gap = detect_rolls(futures[futures["symbol"] == "ZC_F"][["date", "symbol", "close"]])  # no volume column
    assert (tidy_gap["method"] == "gap").all() and "2022-07-12" in set(tidy_gap["date"].dt.strftime("%Y-%m-%d"))
    res = EventStudy(wide, events, market="GSPC").fit()
    assert "roll@-3" in res.alignment["flags"].iloc[0]  # 2022-07-15: -14%, the documented July roll
    assert EventStudy(wide, events, market="GSPC", roll_days=None).fit().alignment["flags"].iloc[0] == ""
