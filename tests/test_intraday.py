"""Intraday event windows (issue 14.3) on SYNTHETIC bars (tests/synthetic_bars.py): the
answers are known by construction, and cross-checked against statsmodels and by hand."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yfinance
from scipy import stats

import impact
from impact import IntradayStudy
from impact.data import load_bars
from impact.data.bars import check_lookback
from impact.data.cache import PriceCache
from impact.data.yahoo import YahooSource
from impact.errors import DataError, ImpactError
from impact.inference.intraday import placebo_ars
from impact.study.intraday import session_points
from tests.synthetic_bars import bar_at, bars_from_steps, random_walk, session_times

DAYS = pd.bdate_range("2025-10-01", "2025-10-14")
NEWS = "2025-10-10T10:57-04:00"


def _pair(jump: float = -0.03, noise: float = 0.0, seed: int = 0, alpha: float = 1e-4, beta: float = 1.5):
    """SPY (a random walk) and QQQ = alpha + beta x SPY (+ noise) per 1-minute bar, with
    ``jump`` in the bar that contains the 10:57 ET news of 2025-10-10."""
    times, x = random_walk(seed, DAYS)
    y = alpha + beta * x + noise * np.random.default_rng(seed + 1).normal(0, 0.0005, len(x))
    y[bar_at(times, NEWS)] += jump
    return pd.concat([bars_from_steps("SPY", times, x, 670.0), bars_from_steps("QQQ", times, y, 600.0)],
                     ignore_index=True)


def _one(result, asset="QQQ", event="E1") -> pd.Series:
    w = result.windows
    return w[(w["asset"] == asset) & (w["event_id"] == event)].iloc[0]


def test_injected_jump_is_recovered_exactly_by_the_benchmark_model():
    result = IntradayStudy(_pair(), {"E1": NEWS}, assets=["QQQ"], model="benchmark", benchmark="SPY",
                           interval="1m").fit()
    row = _one(result)
    assert abs(row["ar"] - (-0.03)) < 1e-10
    assert row["alpha"] == pytest.approx(1e-4, abs=1e-12) and row["beta"] == pytest.approx(1.5, abs=1e-9)
    assert row["n_bars"] == 150 and row["n_est"] == 5 * 390  # (-30, 120) min; the 5 sessions of the week before
    assert row["window_start"] == pd.Timestamp("2025-10-10 14:27", tz="UTC")
    assert row["window_end"] == pd.Timestamp("2025-10-10 16:57", tz="UTC")
    assert not row["crosses_session"] and not row["halt"] and not row["limit"]


def test_injected_jump_is_recovered_exactly_against_a_constant_drift():
    times = session_times(DAYS)
    steps = np.full(len(times), 2e-4)
    steps[bar_at(times, NEWS)] += 0.02
    result = IntradayStudy(bars_from_steps("QQQ", times, steps), {"E1": NEWS}, interval="1m").fit()
    row = _one(result)
    assert abs(row["ar"] - 0.02) < 1e-10
    assert row["alpha"] == pytest.approx(2e-4, abs=1e-15)
    assert row["pre"] == pytest.approx(30 * 2e-4, abs=1e-12) and row["post"] == pytest.approx(120 * 2e-4 + 0.02)


def test_benchmark_model_matches_statsmodels_and_a_hand_sum():
    bars = _pair(noise=1.0, seed=3)
    result = IntradayStudy(bars, {"E1": NEWS}, assets=["QQQ"], model="benchmark", benchmark="SPY",
                           interval="1m", estimation=(-3 * 1440, -30)).fit()
    row = _one(result)
    tau = pd.Timestamp(NEWS)
    lq, ls = (np.log(bars.loc[bars["symbol"] == s, "close"].to_numpy()) for s in ("QQQ", "SPY"))
    ends = pd.DatetimeIndex(bars.loc[bars["symbol"] == "QQQ", "time"]) + pd.Timedelta(minutes=1)
    # every bar's return (the synthetic first bar opens at the previous close, so the diff of
    # closes across a night is that bar's own open -> close return; the overnight gap is 0)
    y, x = np.diff(lq), np.diff(ls)
    e = ends[1:]
    est = (e > tau - pd.Timedelta(days=3)) & (e <= tau - pd.Timedelta(minutes=30))
    ols = sm.OLS(y[est], sm.add_constant(x[est])).fit()
    assert row["alpha"] == pytest.approx(ols.params[0], rel=1e-9)
    assert row["beta"] == pytest.approx(ols.params[1], rel=1e-9)
    assert row["sigma"] == pytest.approx(np.sqrt(ols.scale), rel=1e-9)
    assert row["n_est"] == ols.nobs
    win = (e > tau - pd.Timedelta(minutes=30)) & (e <= tau + pd.Timedelta(minutes=120))
    ar = np.sum(y[win] - ols.params[0] - ols.params[1] * x[win])
    assert row["ar"] == pytest.approx(ar, abs=1e-12)
    # variance of a sum of n_w out-of-sample residuals (CLM 1997 eq. 4.4.9 summed over the window)
    X_w = sm.add_constant(x[win])
    ones = np.ones(win.sum())
    cov = ols.cov_params()
    var = ols.scale * win.sum() + ones @ X_w @ cov @ X_w.T @ ones
    assert row["se"] == pytest.approx(np.sqrt(var), rel=1e-9)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(ar / np.sqrt(var)), ols.df_resid), rel=1e-8)
    # the figure's path ends on the window's AR
    assert result.path("E1", "QQQ")["car"].iloc[-1] == pytest.approx(row["ar"], abs=1e-12)


@pytest.mark.parametrize("model", ["drift", "raw", "benchmark"])
def test_path_ends_on_the_windows_numbers(model):
    bars = _pair(noise=1.0, seed=5)
    result = IntradayStudy(bars, {"E1": NEWS}, assets=["QQQ"], model=model, benchmark="SPY", interval="1m").fit()
    row, path = _one(result), result.path("E1", "QQQ")
    assert path["ret"].iloc[-1] == pytest.approx(row["ret"], abs=1e-12)
    assert path["car"].iloc[-1] == pytest.approx(row["ar"], abs=1e-12)
    assert path["minutes"].iloc[0] == -30 and path["minutes"].iloc[-1] == 120
    assert row["ret"] == pytest.approx(row["pre"] + row["post"], abs=1e-12)


def test_window_crossing_the_close_is_clipped_continued_or_excluded():
    times = session_times(DAYS)
    steps = np.full(len(times), 1e-4)
    late = "2025-10-13T15:30-04:00"  # (-30, 120) would run to 17:30 ET; NYSE closes at 16:00
    bars = bars_from_steps("SPY", times, steps)
    clip = _one(IntradayStudy(bars, {"E2": late}, interval="1m", model="raw").fit(), "SPY", "E2")
    assert clip["crosses_session"]
    assert clip["window_end"] == pd.Timestamp("2025-10-13 20:00", tz="UTC")  # 16:00 ET, the last close
    assert clip["ret"] == pytest.approx(60 * 1e-4) and clip["n_bars"] == 60
    # a longer window runs on into the next session, overnight step left out of the normal return
    long = _one(IntradayStudy(bars, {"E2": late}, window=(-30, 20 * 60), interval="1m", model="drift",
                              across_close="continue").fit(), "SPY", "E2")
    assert long["window_end"] == pd.Timestamp("2025-10-14 15:30", tz="UTC")  # 11:30 ET next day
    assert long["n_bars"] == 60 + 120 and long["ret"] == pytest.approx((60 + 120) * 1e-4)
    assert abs(long["ar"]) < 1e-12
    gone = IntradayStudy(bars, {"E2": late}, interval="1m", across_close="exclude").fit()
    assert gone.windows.empty
    assert gone.excluded.to_dict("records") == [{"event_id": "E2", "asset": "SPY", "reason":
                                                 "window reaches past the session's open or close (across_close='exclude')"}]
    # news 10 minutes after the open: the window starts at the open's price, not yesterday's close
    early = _one(IntradayStudy(bars, {"E3": "2025-10-13T09:40-04:00"}, interval="1m", model="raw").fit(),
                 "SPY", "E3")
    assert early["window_start"] == pd.Timestamp("2025-10-13 13:30", tz="UTC") and early["crosses_session"]
    assert early["pre"] == pytest.approx(10 * 1e-4)


def test_news_while_the_market_is_shut_is_excluded_with_the_reason_or_kept_on_extended_hours():
    # pre/post-market bars 04:00-20:00 ET: 'regular' keeps 09:30-16:00, 'all' keeps them all
    times = session_times(DAYS, start="04:00", bars=16 * 60)
    bars = bars_from_steps("SPY", times, np.full(len(times), 1e-5))
    events = {"post": "2025-10-10T17:00-04:00", "sat": "2025-10-11T12:00-04:00", "in": NEWS}
    regular = IntradayStudy(bars, events, interval="1m").fit()
    assert set(regular.windows["event_id"]) == {"in"}
    assert dict(zip(regular.excluded["event_id"], regular.excluded["reason"])) == {
        "post": "market closed at the instant under these hours", "sat": "market closed at the instant under these hours"}
    extended = IntradayStudy(bars, events, interval="1m", hours="all").fit()
    assert set(extended.windows["event_id"]) == {"in", "post"}
    post = _one(extended, "SPY", "post")
    assert not post["crosses_session"] and post["n_bars"] == 150


def test_futures_follow_their_globex_evening_session():
    # ZS_F: registry open 19:00 CT the evening before, settlement 13:15 CT; Globex pause 07:45-08:30 CT
    evening = session_times(DAYS[1:], start="19:00", bars=12 * 60 + 45, tz="America/Chicago", previous_evening=True)
    day = session_times(DAYS[1:], start="08:30", bars=285, tz="America/Chicago")
    times = evening.append(day).sort_values()
    bars = bars_from_steps("ZS_F", times, np.full(len(times), 1e-5), 1000.0, zone="America/Chicago")
    result = IntradayStudy(bars, {"eve": "2025-10-09T20:30-05:00", "shut": "2025-10-10T14:00-05:00",
                                  "pause": "2025-10-10T07:30-05:00"}, interval="1m").fit()
    eve = _one(result, "ZS_F", "eve")
    assert eve["n_bars"] == 150 and not eve["crosses_session"]
    assert result.excluded.set_index("event_id").loc["shut", "reason"] == "market closed at the instant under these hours"
    pause = _one(result, "ZS_F", "pause")  # 07:45-08:30 CT has no bars: a 45-minute hole in the window
    assert pause["halt"] and pause["longest_gap_minutes"] == 45 and pause["n_bars"] == 150 - 45


def test_halts_and_limits_are_flagged():
    bars = _pair(jump=-0.03)
    qqq = bars[bars["symbol"] == "QQQ"]
    times = pd.DatetimeIndex(qqq["time"])
    hole = (times >= pd.Timestamp("2025-10-10 15:10", tz="UTC")) & (times < pd.Timestamp("2025-10-10 15:22", tz="UTC"))
    bars = bars.drop(index=qqq.index[hole])
    result = IntradayStudy(bars, {"E1": NEWS}, assets=["QQQ"], interval="1m", limits={"QQQ": 0.02}).fit()
    row = _one(result)
    assert row["halt"] and row["longest_gap_minutes"] == 12
    assert row["limit"]  # a 3% fall touches a 2% limit
    calm = _one(IntradayStudy(bars, {"E1": NEWS}, assets=["QQQ"], interval="1m", limits={"default": 0.10},
                              halt_minutes=15).fit())
    assert not calm["halt"] and not calm["limit"]


def test_catalog_events_without_an_exact_time_are_excluded_with_the_reason():
    catalog = impact.load_catalog()
    times = session_times(pd.bdate_range("2025-10-01", "2025-10-17"))
    bars = bars_from_steps("SPY", times, np.full(len(times), 1e-5))
    result = IntradayStudy(bars, catalog.filter(start="2025-10-09", end="2025-10-16"), interval="1m").fit()
    reasons = result.excluded.groupby("reason")["event_id"].apply(set).to_dict()
    untimed = {e for e, t in zip(catalog.events["event_id"], catalog.events["time_local"]) if not t}
    assert reasons.get("no exact time of day in the catalog: a minutes window needs the instant", set()) <= untimed
    # USCN-2025-22: Trump's 10:57 ET post of 2025-10-10 is exact and lands in the session
    assert "USCN-2025-22" in set(result.windows["event_id"])
    assert _one(result, "SPY", "USCN-2025-22")["instant"] == pd.Timestamp("2025-10-10 14:57", tz="UTC")


def test_tests_across_events_by_hand():
    times, x = random_walk(11, pd.bdate_range("2025-09-01", "2025-10-31"), sigma=0.001)
    bars = bars_from_steps("SPY", times, x)
    events = {f"E{i}": f"2025-10-{d:02d}T{h}-04:00" for i, (d, h) in
              enumerate([(6, "10:15"), (8, "11:40"), (14, "13:05"), (16, "10:50"), (21, "14:20"), (23, "12:00"),
                         (27, "11:11"), (29, "13:33")])}
    result = IntradayStudy(bars, events, interval="1m").fit()
    table = result.tests(n_placebo=20, seed=1).set_index("group")
    ar, se = result.windows["ar"].to_numpy(), result.windows["se"].to_numpy()
    n = len(ar)
    assert table.loc["all", "n"] == n == 8
    assert table.loc["all", "t_cs"] == pytest.approx(ar.mean() / (ar.std(ddof=1) / np.sqrt(n)))
    assert table.loc["all", "p_cs"] == pytest.approx(stats.ttest_1samp(ar, 0).pvalue)
    assert table.loc["all", "z_patell"] == pytest.approx(np.sum(ar / se) / np.sqrt(n))
    assert table.loc["all", "p_sign"] == pytest.approx(stats.binomtest(int((ar > 0).sum()), n).pvalue)
    assert table.loc["all", "p_wilcoxon"] == pytest.approx(stats.wilcoxon(ar).pvalue)
    # the pooled placebo p: replicate j = mean over pairs of their j-th placebo AR, by hand
    placebo = placebo_ars(result, 20, seed=1)
    assert np.isfinite(placebo).all()  # 36 sessions without events, 20 draws each
    means = placebo.mean(axis=0)
    assert table.loc["all", "p_placebo"] == pytest.approx((1 + np.sum(np.abs(means) >= abs(ar.mean()))) / 21)
    beyond = (np.abs(placebo) >= np.abs(ar)[:, None]).sum(axis=1)
    assert np.allclose(result.windows["p_placebo"], (1 + beyond) / 21)


def test_placebo_days_are_distinct_non_event_days_at_the_same_clock_time():
    times, x = random_walk(2, pd.bdate_range("2025-08-01", "2025-10-31"), sigma=0.001)
    bars = bars_from_steps("SPY", times, x)
    result = IntradayStudy(bars, {"E1": "2025-10-10T10:57-04:00", "E2": "2025-10-20T14:02-04:00"},
                           interval="1m").fit()
    a = placebo_ars(result, 30, seed=4)
    b = placebo_ars(result, 30, seed=4)
    assert np.array_equal(a, b, equal_nan=True)  # seeded
    assert not np.array_equal(a, placebo_ars(result, 30, seed=5), equal_nan=True)
    # each pair's draws are distinct days: no AR repeats within a row
    for row in a:
        assert len(np.unique(row)) == 30


def test_placebo_p_is_uniform_without_an_effect():
    """No effect: the pooled time-of-day placebo p over 200 seeds is ~ U(0, 1)."""
    days = pd.bdate_range("2025-06-02", "2025-07-25")  # 40 sessions of 5-minute bars
    p = []
    for seed in range(200):
        rng = np.random.default_rng(10_000 + seed)
        times, x = random_walk(seed, days, sigma=0.002, bars=78, minutes=5)
        bars = bars_from_steps("SPY", times, x)
        picks = rng.choice(np.arange(8, len(days)), size=4, replace=False)
        clocks = rng.integers(10 * 60, 14 * 60, size=4)
        events = {f"E{i}": (days[d] + pd.Timedelta(minutes=int(c))).tz_localize("America/New_York")
                  for i, (d, c) in enumerate(zip(picks, clocks))}
        result = IntradayStudy(bars, events, window=(-30, 60), interval="5m", min_bars=20).fit()
        p.append(result.tests(n_placebo=49, seed=seed).set_index("group").loc["all", "p_placebo"])
    p = np.array(p)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert 0.01 <= np.mean(p <= 0.05) <= 0.11
    assert 0.35 <= np.mean(p <= 0.5) <= 0.65


def test_placebo_finds_a_real_effect():
    times, x = random_walk(7, pd.bdate_range("2025-08-01", "2025-10-31"), sigma=0.0005)
    news = ["2025-10-06T10:15-04:00", "2025-10-14T11:40-04:00", "2025-10-22T13:05-04:00"]
    for n in news:
        x[bar_at(times, n)] -= 0.01
    result = IntradayStudy(bars_from_steps("SPY", times, x), dict(enumerate(news)), interval="1m").fit()
    row = result.tests(n_placebo=49).set_index("group").loc["all"]
    assert row["p_placebo"] == pytest.approx(1 / 50)  # no placebo day comes close
    assert row["mean_ar"] < -0.008


def test_figure_one_panel_per_asset_with_the_instant_and_the_shut_part(tmp_path):
    bars = _pair(noise=1.0)
    result = IntradayStudy(bars, {"E1": NEWS, "E2": "2025-10-13T15:30-04:00"}, interval="1m").fit()
    fig = result.plot("E2")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [
        f"S&P 500 ETF (SPY), 15:30 EDT: {100 * _one(result, 'SPY', 'E2')['ar']:+.2f}%",
        f"Nasdaq-100 (QQQ), 15:30 EDT: {100 * _one(result, 'QQQ', 'E2')['ar']:+.2f}%"]
    shaded = [p for p in axes[0].patches]
    assert len(shaded) == 1 and shaded[0].get_x() == pytest.approx(30)  # 16:00 ET to +120 min: shut
    fig.savefig(tmp_path / "e2.png")
    assert (tmp_path / "e2.png").stat().st_size > 10_000


def test_bad_parameters_are_one_line_errors():
    bars = _pair()
    for kwargs, message in [
        ({"window": (10, 20)}, "intraday window (10, 20) must run from a <= 0 to b > 0 minutes, e.g. (-30, 120)"),
        ({"estimation": (-100, 0)}, "estimation window (-100, 0) must end at or before the event window's start (-30)"),
        ({"model": "capm"}, "unknown model 'capm'; choose one of drift, benchmark, raw"),
        ({"hours": "extended"}, "unknown hours 'extended'; choose one of regular, all"),
        ({"model": "benchmark"}, "model='benchmark' needs benchmark= one of the bars' symbols (SPY, QQQ)"),
        ({"assets": ["IWM"]}, "no bars for IWM (the bars hold SPY, QQQ)"),
    ]:
        with pytest.raises(ImpactError) as err:
            IntradayStudy(bars, {"E1": NEWS}, interval="1m", **kwargs)
        assert str(err.value) == message
    with pytest.raises(ImpactError, match="has no time zone"):
        IntradayStudy(bars, pd.DataFrame({"event_id": ["E1"], "instant": ["2025-10-10 10:57"]})).fit()


# -- yfinance intraday, recorded shape (SYNTHETIC values) -------------------------------------

RECORDED = Path(__file__).resolve().parent / "recorded" / "intraday_SPY_5m.json"


def _fake_download(calls: list):
    rec = json.loads(RECORDED.read_text())
    index = pd.DatetimeIndex(pd.to_datetime(rec["index"])).tz_localize(rec["timezone"])
    index.name = "Datetime"
    frame = pd.DataFrame(rec["data"], index=index, columns=rec["columns"], dtype=float)

    def download(tickers, start=None, end=None, interval="1d", prepost=False, **kwargs):
        calls.append({"tickers": tickers, "start": start, "end": end, "interval": interval, "prepost": prepost})
        local = index.tz_localize(None)
        keep = (local >= pd.Timestamp(start)) & (local < pd.Timestamp(end))  # end exclusive, as yfinance
        part = frame[keep]
        part.columns = pd.MultiIndex.from_product([part.columns, ["SPY"]], names=["Price", "Ticker"])
        return part
    return download


def test_yfinance_intraday_through_the_cache(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(yfinance, "download", _fake_download(calls))
    source = YahooSource(interval="5m", today="2025-11-01")  # a day when October's 5m bars were served
    bars = load_bars("SPY", source, "2025-10-09", "2025-10-10", interval="5m", cache_dir=tmp_path)
    assert calls == [{"tickers": ["SPY"], "start": "2025-10-09", "end": "2025-10-11", "interval": "5m",
                      "prepost": True}]
    assert len(bars) == 2 * 192 and bars["time"].iloc[0] == pd.Timestamp("2025-10-09 08:00", tz="UTC")
    assert (tmp_path / "SPY@5m.parquet").exists() and not (tmp_path / "SPY.parquet").exists()
    again = load_bars("SPY", "yahoo", "2025-10-09", "2025-10-10", interval="5m", cache_dir=tmp_path, offline=True)
    pd.testing.assert_frame_equal(again, bars)
    assert len(calls) == 1
    entry = PriceCache(tmp_path, interval="5m").entries().iloc[0]
    assert (entry["symbol"], entry["start"], entry["end"], entry["rows"]) == ("SPY", "2025-10-09", "2025-10-10", 384)
    assert PriceCache(tmp_path).entries().empty  # the daily cache does not see intraday files
    # the synthetic -0.5% bar at 10:55 ET: a window around 10:57 news catches it after the instant
    result = IntradayStudy(bars, {"E1": NEWS}, window=(-30, 60), estimation=(-1440, -30), interval="5m").fit()
    row, path = _one(result, "SPY"), result.path("E1", "SPY")
    assert row["window_start"] == pd.Timestamp("2025-10-10 14:25", tz="UTC")  # 10:25 ET bar end = P(10:27)
    after, before = path[path["minutes"] > 0].iloc[0], path[path["minutes"] <= 0].iloc[-1]
    assert after["minutes"] == 3  # the 10:55-11:00 bar holds the 10:57 news: its close at 11:00 is the first after
    assert after["ret"] - before["ret"] == pytest.approx(np.log(666.7487 / 670.0908), abs=1e-12)


def test_yfinance_lookback_is_checked_before_asking(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(yfinance, "download", _fake_download(calls))
    with pytest.raises(DataError) as err:
        load_bars("SPY", YahooSource(interval="5m", today="2026-12-02"), "2025-10-09", "2025-10-10", interval="5m",
                  cache_dir=tmp_path)
    assert str(err.value) == ("yfinance serves 5m bars for the last 60 days only (from 2026-10-03); start 2025-10-09 "
                              "is earlier: use interval='60m' (730 days) or load your own bar file")
    assert calls == [] and not list(tmp_path.glob("*.parquet"))
    check_lookback("60m", "2025-10-09", "2026-12-02")  # hourly bars reach back two years: October 2025 is fine
    with pytest.raises(DataError, match="1m bars for the last 30 days only"):
        check_lookback("1m", "2026-10-01", "2026-12-02")


def test_one_minute_requests_are_split_in_weeks(monkeypatch):
    calls: list = []
    monkeypatch.setattr(yfinance, "download", lambda tickers, **kw: calls.append(kw) or pd.DataFrame())
    YahooSource(interval="1m", today="2026-12-02", retries=0).fetch(["SPY"], "2026-11-10",
                                                                                     "2026-11-30")
    assert [(c["start"], c["end"]) for c in calls] == [("2026-11-10", "2026-11-17"), ("2026-11-17", "2026-11-24"),
                                                       ("2026-11-24", "2026-12-01")]


def test_session_points_put_the_open_first_and_drop_bars_outside_the_hours():
    times = session_times(DAYS[:2], start="09:00", bars=60)  # 09:00-09:59 ET: half before the open
    bars = bars_from_steps("SPY", times, np.full(len(times), 1e-3))
    pts = session_points(bars, "SPY", 1)
    assert len(pts.time) == 2 * (30 + 1)  # 30 bars in the session + the open point, per day
    assert pts.time[0] == pd.Timestamp("2025-10-01 13:30", tz="UTC").value  # the 09:30 bar's open
    assert np.allclose(np.diff(pts.logp)[pts.steps[1:]], 1e-3)


def test_yahoo_hourly_bars_cut_short_at_the_session_edges():
    """Yahoo's 60m bars with pre/post-market: 04:00 .. 09:00 (ends 09:30), 09:30 .. 15:30 (ends
    16:00), 16:00 .. 19:00. Under regular hours the 09:30 open starts the session and the
    15:30 bar's close is the 16:00 price."""
    local = [f"2025-10-{d} {h:02d}:{m}" for d in ("09", "10") for h, m in [(h, "00") for h in range(4, 10)]
             + [(h, "30") for h in range(9, 16)] + [(h, "00") for h in range(16, 20)]]
    times = pd.DatetimeIndex(local).tz_localize("America/New_York").tz_convert("UTC").as_unit("ns")
    bars = load_bars(source=bars_from_steps("SPY", times, np.full(len(times), 1e-3)), interval="60m")
    pts = session_points(bars, "SPY", 60)
    clock = pd.DatetimeIndex(pts.time).tz_localize("UTC").tz_convert("America/New_York").strftime("%H:%M")
    assert list(clock) == 2 * (["09:30"] + [f"{h:02d}:30" for h in range(10, 16)] + ["16:00"])
    everything = session_points(bars, "SPY", 60, hours="all")
    ends = pd.DatetimeIndex(everything.time).tz_localize("UTC").tz_convert("America/New_York").strftime("%H:%M")
    assert list(ends).count("09:30") == 2 and list(ends)[-1] == "20:00"  # the 09:00 bar ends at 09:30
    # news at 10:57: P(instant) is the 09:30 bar's close at 10:30, the 10:30 bar holds the news
    row = _one(IntradayStudy(bars, {"E1": NEWS}, window=(-60, 120), estimation=(-1440, -60), interval="60m",
                             min_bars=1, model="raw").fit(), "SPY")
    assert row["window_start"] == pd.Timestamp("2025-10-10 13:30", tz="UTC")  # clipped at the 09:30 open
    assert row["window_end"] == pd.Timestamp("2025-10-10 16:30", tz="UTC")
    assert row["pre"] == pytest.approx(1e-3) and row["post"] == pytest.approx(2e-3)
