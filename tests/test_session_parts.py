"""Issue 14: where in the day — overnight (previous close -> open) and trading (open -> close)
returns from the bundled daily opens, each asset's open on its real clock."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact import EventStudy, datasets, load_catalog
from impact.data.returns import ReturnPanel
from impact.errors import ImpactError
from impact.events.align import align_catalog
from impact.events.assets import get_asset

US = ["SPY", "GSPC", "QQQ"]


@pytest.fixture(scope="module")
def prices():
    return datasets.load_prices([*US, "AAPL", "SOXX", "VIX", "ZS_F", "ZW_F", "HG_F", "GC_F", "CT1", "HSI"])


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _bar(prices, symbol, day):
    p = prices[prices["symbol"] == symbol].set_index("date")
    i = p.index.get_loc(pd.Timestamp(day))
    return p.iloc[i - 1], p.iloc[i]


def _study(prices, catalog, part, assets=US, **kw):
    ids = ["USCN-2025-06", "USCN-2025-22", "USCN-2025-24"]
    events = catalog.events[catalog.events["event_id"].isin(ids)]
    kw = {"model": "constant_mean", "returns": "simple", "event_window": (-1, 1), **kw}
    return EventStudy(prices, events, market="GSPC", assets=list(assets), session_part=part, **kw).fit()


def _day0(result, event_id):
    ar = result.ar
    return ar[(ar["event_id"] == event_id) & (ar["rel_day"] == 0)].set_index("asset")


def test_the_october_post_lands_in_the_trading_part_which_carries_the_fall(prices, catalog):
    al = align_catalog(catalog.events[catalog.events["event_id"] == "USCN-2025-22"], US)
    assert (al["part"] == "trading").all() and (al["day0"] == pd.Timestamp("2025-10-10")).all()
    trading = _day0(_study(prices, catalog, "trading"), "USCN-2025-22")
    for symbol in US:
        prev, bar = _bar(prices, symbol, "2025-10-10")
        assert trading.at[symbol, "date"] == pd.Timestamp("2025-10-10")
        assert trading.at[symbol, "ret"] == pytest.approx(bar["close"] / bar["open"] - 1, abs=1e-12)
        assert abs(bar["open"] / prev["close"] - 1) < 0.0015            # the gap: nothing yet
    assert trading.at["SPY", "ret"] == pytest.approx(-0.0284, abs=5e-5)   # open -> close -2.84%
    # the session's own gap, in an overnight study: the day before the post's first gap (13 Oct)
    overnight = _study(prices, catalog, "overnight").ar
    gap = overnight[(overnight["event_id"] == "USCN-2025-22") & (overnight["asset"] == "SPY")].set_index("rel_day")
    assert gap.at[0, "date"] == pd.Timestamp("2025-10-13") and gap.at[-1, "date"] == pd.Timestamp("2025-10-10")
    assert gap.at[-1, "ret"] == pytest.approx(0.0014, abs=5e-5)           # +0.14%


def test_the_sunday_walk_back_lands_in_mondays_gap(prices, catalog):
    al = align_catalog(catalog.events[catalog.events["event_id"] == "USCN-2025-24"], US)
    assert (al["part"] == "overnight").all() and (al["day0"] == pd.Timestamp("2025-10-13")).all()
    gap = _day0(_study(prices, catalog, "overnight"), "USCN-2025-24")
    prev, bar = _bar(prices, "SPY", "2025-10-13")
    assert gap.at["SPY", "ret"] == pytest.approx(bar["open"] * bar["adj_close"] / bar["close"] / prev["adj_close"] - 1,
                                                 abs=1e-12)
    assert gap.at["SPY", "ret"] == pytest.approx(0.0117, abs=5e-5)        # +1.17%
    assert _day0(_study(prices, catalog, "trading"), "USCN-2025-24").at["SPY", "ret"] == pytest.approx(0.0036, abs=5e-5)


def test_liberation_day_lands_in_the_next_mornings_gap(prices, catalog):
    al = align_catalog(catalog.events[catalog.events["event_id"] == "USCN-2025-06"], US)
    assert (al["part"] == "overnight").all() and (al["day0"] == pd.Timestamp("2025-04-03")).all()
    gap = _day0(_study(prices, catalog, "overnight"), "USCN-2025-06")
    session = _day0(_study(prices, catalog, "trading"), "USCN-2025-06")
    assert gap.at["SPY", "ret"] == pytest.approx(-0.0344, abs=5e-5)       # -3.44% at the open
    assert session.at["SPY", "ret"] == pytest.approx(-0.0154, abs=5e-5)   # -1.54% after it
    assert (gap.loc[US, "ret"] < session.loc[US, "ret"]).all()


def test_futures_open_is_the_evening_open_before_the_session(prices):
    """The registry's open clock for futures, checked on the data: news from Beijing on
    Friday afternoon 2025-04-04 (about 05:00 ET, before the NYSE open and the CBOT day
    session at 08:30 CT) are in the futures' open -> close part, not in their gap, while
    the 2 April 16:00 ET 'Liberation Day' tariffs are in their 3 April gap: the open is
    struck after 16:00 ET on the previous day and before the Beijing news, i.e. the Globex
    / ICE evening open, not the day session's."""
    for symbol, clock in {"ZS_F": "19:00 America/Chicago", "ZW_F": "19:00 America/Chicago",
                          "HG_F": "18:00 America/New_York", "GC_F": "18:00 America/New_York",
                          "CT1": "21:00 America/New_York"}.items():
        asset = get_asset(symbol)
        assert (f"{asset.open_time:%H:%M} {asset.open_tz}", asset.open_day) == (clock, "previous")
        prev, bar = _bar(prices, symbol, "2025-04-04")
        gap, session = np.log(bar["open"] / prev["close"]), np.log(bar["close"] / bar["open"])
        assert abs(gap) < 0.007 and session < -0.014, symbol
    spy_prev, spy = _bar(prices, "SPY", "2025-04-04")
    assert spy["open"] / spy_prev["close"] - 1 < -0.019        # US stocks opened on the news
    for symbol in ("ZS_F", "HG_F", "CT1"):
        prev, bar = _bar(prices, symbol, "2025-04-03")
        assert bar["open"] / prev["close"] - 1 < -0.015, symbol  # Liberation Day in their gap


def test_parts_add_up_to_the_close_to_close_return_and_survive_dividends(prices):
    close = ReturnPanel.from_prices(prices, "log")
    night = ReturnPanel.from_prices(prices, "log", part="overnight")
    day = ReturnPanel.from_prices(prices, "log", part="trading")
    for symbol in ("SPY", "AAPL", "ZS_F"):
        both = (night.returns[symbol] + day.returns[symbol]).dropna()
        np.testing.assert_allclose(both, close.returns[symbol].reindex(both.index), atol=1e-12)
    # Synthetic (not market data): a $1 dividend goes ex on the third day. The traded close
    # drops by it, adj_close scales the history by (101 - 1) / 101; the adjusted gap must not
    # show the dividend.
    f = 100 / 101
    toy = pd.DataFrame({"date": pd.bdate_range("2025-01-06", periods=4), "symbol": "TOY",
                        "open": [100.0, 101.0, 100.2, 100.3], "close": [100.0, 101.0, 100.5, 100.6],
                        "adj_close": [100.0 * f, 101.0 * f, 100.5, 100.6]})
    gap = ReturnPanel.from_prices(toy, "log", part="overnight").returns["TOY"]
    assert gap.iloc[1] == pytest.approx(np.log(101.0 / 100.0), abs=1e-12)
    assert gap.iloc[2] == pytest.approx(np.log(100.2 / 100.0), abs=1e-12)       # +0.20%, not the raw
    assert np.log(100.2 / 101.0) == pytest.approx(-0.00795, abs=1e-5)           # -0.80% of the raw gap
    trading = ReturnPanel.from_prices(toy, "log", part="trading").returns["TOY"]
    assert trading.iloc[2] == pytest.approx(np.log(100.5 / 100.2), abs=1e-12)   # same-day: no adjustment


def test_market_model_is_fitted_on_the_benchmarks_same_part(prices, catalog):
    events = catalog.events[catalog.events["event_id"] == "USCN-2025-22"]
    res = EventStudy(prices, events, market="GSPC", model="market", assets=["AAPL"], session_part="trading").fit()
    day = ReturnPanel.from_prices(prices, "log", part="trading")
    params = res.params.iloc[0]
    window = slice(params["estimation_start"], params["estimation_end"])
    y, x = day.returns["AAPL"].loc[window], day.returns["GSPC"].reindex(day.returns["AAPL"].index).loc[window]
    assert params["n_obs"] == len(y) == 250 and params["n_masked"] == 0
    ols = sm.OLS(y.to_numpy(), sm.add_constant(x.to_numpy())).fit()
    assert params["alpha"] == pytest.approx(ols.params[0], abs=1e-12)
    assert params["beta"] == pytest.approx(ols.params[1], abs=1e-12)
    assert params["sigma"] == pytest.approx(np.sqrt(ols.scale), abs=1e-12)
    close = EventStudy(prices, events, market="GSPC", model="market", assets=["AAPL"]).fit().params.iloc[0]
    assert abs(close["beta"] - params["beta"]) > 0.01   # a different regression from the close-to-close one


def test_series_without_usable_opens_are_excluded_with_the_reason(prices, catalog):
    res = _study(prices, catalog, "trading", assets=["SPY", "SOXX", "VIX"])
    reasons = res.excluded.groupby("asset")["reason"].first()
    assert reasons["SOXX"] == "no daily opens in the price data for SOXX (close only); session_part='trading' needs them"
    assert reasons["VIX"].startswith("no usable daily open for VIX (clock of the Yahoo open unknown)")
    assert set(res.pairs["asset"]) == {"SPY"}
    assert (res.alignment.loc[res.alignment["asset"] == "SPY", "part"] != "").all()


def test_bad_session_part_inputs_are_one_line_errors(prices, catalog):
    with pytest.raises(ImpactError, match=r"unknown session_part 'open' \(choose from close, overnight, trading\)"):
        EventStudy(prices, catalog, assets=["SPY"], session_part="open")
    wide = prices[prices["symbol"] == "SPY"].pivot(index="date", columns="symbol", values="close")
    with pytest.raises(ImpactError, match=r"session_part='overnight' needs tidy prices with an 'open' column"):
        EventStudy(wide, catalog, market=None, model="constant_mean", session_part="overnight")
    returns = wide.pct_change()
    with pytest.raises(ImpactError, match=r"session_part='trading' needs prices with opens, not returns_data"):
        EventStudy.from_returns(returns, catalog, market=None, model="constant_mean", session_part="trading")

