"""The calendar-time portfolio (impact/inference/calendar_time.py; Jaffe 1974, Mandelker 1974,
Fama 1998): the benchmark column the regression uses, alpha and t against statsmodels OLS on
a portfolio built by hand, a SYNTHETIC known abnormal return recovered exactly, and the
one-line errors."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact import EventStudy, datasets, load_catalog
from impact.errors import ImpactError
from impact.inference.calendar_time import calendar_time, portfolio_series

ASSETS = ["GSPC", "SPY", "SOXX", "NVDA", "HG_F"]
CATALOG_2025 = dict(start="2025-01-01", end="2025-12-31")


@pytest.fixture(scope="module")
def real():
    """Real bundled data: four assets and the 2025 events, the market model on the S&P 500."""
    return EventStudy(datasets.load_prices(ASSETS), load_catalog().filter(**CATALOG_2025), market="GSPC").fit()


def known_effect_panel(effect: float = 0.002, beta: float = 1.2, n_assets: int = 6, n_events: int = 12,
                       gap: int = 7, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC returns: R_it = beta m_t + e_it outside event windows; inside an event window
    [-5, 5] exactly beta m_t + effect (no noise). Events 7 sessions apart, so windows of
    neighbouring events overlap and the portfolio size varies from day to day."""
    rng = np.random.default_rng(seed)
    first = 280
    T = first + gap * n_events + 20
    dates = pd.bdate_range("2003-01-02", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    R = beta * m[:, None] + rng.normal(0.0, 0.02, (T, n_assets))
    day0 = first + gap * np.arange(n_events)
    inside = np.zeros(T, dtype=bool)
    for d in day0:
        inside[d - 5:d + 6] = True
    R[inside] = beta * m[inside, None] + effect
    frame = pd.DataFrame(R, index=dates, columns=[f"A{i}" for i in range(n_assets)])
    frame["MKT"] = m
    events = pd.DataFrame({"event_id": [f"E{j:02d}" for j in range(n_events)], "date": dates[day0]})
    return frame, events


def synthetic(model: str = "market", **options):
    frame, events = known_effect_panel(**options)
    study = EventStudy.from_returns(frame, events, market="MKT", model=model, estimation_window=(-260, -11),
                                    event_window=(-5, 5), contamination="ignore")
    return study.fit(), frame


def hand_portfolio(result, window) -> pd.DataFrame:
    """The portfolio by a plain loop: for each pair and each day of ``window``, its raw return
    and its benchmark return (column 0) go to that calendar day."""
    days: dict = {}
    for p in range(len(result.pairs)):
        for j, rel in enumerate(result.rel_days):
            if window[0] <= rel <= window[1]:
                day = pd.Timestamp(result.dates[p, j])
                days.setdefault(day, []).append((result.raw[p, j], result.benchmark[p, j, 0]))
    return pd.DataFrame([(d, np.mean([r for r, _ in v]), np.mean([b for _, b in v]), len(v))
                         for d, v in sorted(days.items())], columns=["date", "ret", "benchmark", "n"])


def test_benchmark_column_0_is_the_market_return_on_the_pairs_dates(real):
    """result.benchmark[..., 0] of a market-model study is the market's return on each pair's
    own session dates: the MKT column (SYNTHETIC) and the S&P 500 log return (real, SPY)."""
    result, frame = synthetic()
    for p in range(len(result.pairs)):
        np.testing.assert_array_equal(result.benchmark[p, :, 0], frame["MKT"].reindex(pd.to_datetime(result.dates[p])))
    gspc = datasets.load_prices(["GSPC"]).set_index("date")["close"]
    market = np.log(gspc).diff()
    market.index = pd.to_datetime(market.index)
    spy = np.flatnonzero(real.pairs["asset"].to_numpy() == "SPY")
    assert len(spy) > 10
    for p in spy:
        np.testing.assert_allclose(real.benchmark[p, :, 0], market.reindex(pd.to_datetime(real.dates[p])).to_numpy(),
                                   rtol=0, atol=1e-15)


@pytest.mark.parametrize("window", [None, (-1, 1), (0, 0)])
def test_alpha_and_t_are_statsmodels_ols_on_the_hand_built_portfolio(real, window):
    w = window or real.study.event_window
    hand = hand_portfolio(real, w)
    ols = sm.OLS(hand["ret"].to_numpy(), sm.add_constant(hand["benchmark"].to_numpy())).fit()
    out = real.calendar_time(window)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["window"] == f"[{w[0]},{w[1]}]" and row["model"] == "market" and row["cov"] == "nonrobust"
    assert row["alpha"] == pytest.approx(ols.params[0], rel=1e-9, abs=1e-15)
    assert row["se"] == pytest.approx(ols.bse[0], rel=1e-9)
    assert row["t"] == pytest.approx(ols.tvalues[0], rel=1e-9)
    assert row["p_value"] == pytest.approx(ols.pvalues[0], rel=1e-9)
    assert row["beta"] == pytest.approx(ols.params[1], rel=1e-9)
    assert row["n_days"] == len(hand) and row["mean_assets"] == pytest.approx(hand["n"].mean(), rel=1e-12)
    series = portfolio_series(real, window)
    np.testing.assert_allclose(series["ret"].to_numpy(), hand["ret"].to_numpy(), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(series["n_assets"].to_numpy(), hand["n"].to_numpy())


def test_hac_standard_errors_are_statsmodels_newey_west(real):
    hand = hand_portfolio(real, real.study.event_window)
    ols = sm.OLS(hand["ret"].to_numpy(), sm.add_constant(hand["benchmark"].to_numpy()))
    hac = ols.fit(cov_type="HAC", cov_kwds={"maxlags": 5})
    row = calendar_time(real, hac_lags=5).iloc[0]
    assert row["cov"] == "HAC(5)"
    assert row["alpha"] == pytest.approx(hac.params[0], rel=1e-9)
    assert row["se"] == pytest.approx(hac.bse[0], rel=1e-9)
    assert row["t"] == pytest.approx(hac.tvalues[0], rel=1e-9)


def test_a_known_constant_abnormal_return_is_recovered_exactly():
    """SYNTHETIC: every event-window return is 1.2 m_t + 0.002 with no noise, so the portfolio
    return is 0.002 + 1.2 m_t on every day, however many assets are in it."""
    result, _ = synthetic()
    row = result.calendar_time().iloc[0]
    assert abs(row["alpha"] - 0.002) < 1e-10
    assert abs(row["beta"] - 1.2) < 1e-10
    hand = hand_portfolio(result, (-5, 5))
    assert row["n_days"] == len(hand) and hand["n"].nunique() > 1  # overlapping windows: sizes vary
    assert row["mean_assets"] == pytest.approx(hand["n"].mean(), rel=1e-12)
    inner = result.calendar_time((-1, 1)).iloc[0]
    assert abs(inner["alpha"] - 0.002) < 1e-10 and inner["n_days"] < row["n_days"]


def test_without_a_benchmark_the_regression_is_on_a_constant():
    """SYNTHETIC, constant_mean model: no benchmark, alpha is the mean portfolio return."""
    result, _ = synthetic(model="constant_mean")
    assert not result.benchmark.any()  # the engine stores zeros for models without regressors
    row = result.calendar_time().iloc[0]
    hand = hand_portfolio(result, (-5, 5))
    ols = sm.OLS(hand["ret"].to_numpy(), np.ones(len(hand))).fit()
    assert row["model"] == "constant" and np.isnan(row["beta"])
    assert row["alpha"] == pytest.approx(hand["ret"].mean(), rel=1e-12)
    assert row["t"] == pytest.approx(ols.tvalues[0], rel=1e-9)
    market, _ = synthetic()
    forced = market.calendar_time(model="constant").iloc[0]
    assert forced["model"] == "constant" and forced["alpha"] == pytest.approx(
        hand_portfolio(market, (-5, 5))["ret"].mean(), rel=1e-12)


def test_a_pair_counts_once_on_a_day():
    """Two rows of one pair on the same calendar day (here made by hand) enter once."""
    result, _ = synthetic()
    dates = result.dates.copy()
    dates[0, 1] = dates[0, 0]  # pair 0: its rel_day -4 row now falls on its rel_day -5 date
    twice = replace(result, dates=dates, _cache={})
    series = portfolio_series(twice, (-5, 5))
    day = pd.Timestamp(dates[0, 0])
    original = portfolio_series(result, (-5, 5))
    assert series.loc[day, "n_assets"] == original.loc[day, "n_assets"]
    assert series["n_assets"].sum() == original["n_assets"].sum() - 1


def test_bad_inputs_are_refused_in_one_line(real):
    mixed = EventStudy(datasets.load_prices(ASSETS), load_catalog().filter(**CATALOG_2025), market="GSPC",
                       model={"default": "constant_mean", "equity_etf": "market"}).fit()
    cases = [
        (lambda: real.calendar_time(model="ff3"), "unknown calendar_time model 'ff3' (choose from market, constant)"),
        (lambda: real.calendar_time(hac_lags=-1), "hac_lags must be a whole number >= 0 or None, not -1"),
        (lambda: real.calendar_time(hac_lags=2.5), "hac_lags must be a whole number >= 0 or None, not 2.5"),
        (lambda: real.calendar_time((-6, 0)), "window (-6, 0) lies outside the event window (-5, 5)"),
        (lambda: mixed.calendar_time(), "calendar_time model='market' needs a market benchmark for every pair; "
                                        "this study uses constant_mean, market: pass model='constant'"),
        (lambda: real.take([0]).calendar_time((0, 0)),
         "calendar_time needs more than 2 calendar days with an asset in its window, this result has 1"),
    ]
    for run, message in cases:
        with pytest.raises(ImpactError) as err:
            run()
        assert str(err.value) == message
    assert mixed.calendar_time(model="constant").iloc[0]["model"] == "constant"
