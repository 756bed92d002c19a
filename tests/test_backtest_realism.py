"""Backtest realism (issue 17): roll-adjusted futures P&L, a placebo that replays the whole
rule, and the statistics for judging rules tried together (PSR, DSR, bootstrap CI).

Prices marked SYNTHETIC are made up on real exchange sessions so every number can be
computed by hand; the soybean checks use the real bundled ZS_F and SOYB settlements.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from impact.backtest import load_rule, rule_from_dict, run_backtest
from impact.backtest.result import deflate
from impact.backtest.stats import bootstrap_mean_ci, deflated_sharpe, expected_max_sharpe, probabilistic_sharpe
from impact.data.rolls import detect_rolls, robust_scale
from impact.data.splice import roll_gaps, splice_prices
from impact.errors import DataError, SpecError
from impact.events.assets import get_asset
from impact.events.calendars import sessions
from impact.events.catalog import catalog_from_frame


def soybeans(**change):
    spec = load_rule("soybeans_retaliation").to_dict() | {"placebo": {"runs": 0, "seed": 1}} | change
    return rule_from_dict(spec)


# --- roll adjustment ----------------------------------------------------------------------

def test_the_2019_05_13_soybean_trade_excludes_the_may_july_switch(prices):
    result = run_backtest(soybeans(), prices)
    t = result.trades.set_index("event_id").loc["USCN-2019-04"]
    z = prices[prices["symbol"] == "ZS_F"].set_index("date")["close"]
    s = prices[prices["symbol"] == "SOYB"].set_index("date")["close"]
    d13, d14, d15, d20 = (pd.Timestamp(x) for x in ("2019-05-13", "2019-05-14", "2019-05-15", "2019-05-20"))
    assert (t["entry_date"], t["exit_date"]) == (d13, d20)
    assert (t["entry_price"], t["exit_price"]) == (791.0, 831.75)
    assert t["roll_days"] == "2019-05-14;2019-05-15" and t["roll_rule"] == "benchmark:SOYB"
    # raw: the whole move of the quoted series; adjusted: each switch day's return is SOYB's
    raw = -(831.75 / 791.0 - 1)
    gaps = [(z[d] / z[p]) / (s[d] / s[p]) for p, d in ((d13, d14), (d14, d15))]
    adjusted = -(831.75 / 791.0 / np.prod(gaps) - 1)
    assert t["return_gross_raw"] == pytest.approx(raw, rel=1e-12)  # -5.15%
    assert t["return_gross"] == pytest.approx(adjusted, rel=1e-12)  # -2.95%
    assert t["roll_gap"] == pytest.approx(raw - adjusted, rel=1e-12)
    assert -0.025 < t["roll_gap"] < -0.02  # the May->July switch cost the short 2.2 points

    # The removed gaps are the detected roll-day returns beyond SOYB's move that day.
    detected = detect_rolls(prices, ["ZS_F"]).set_index("date")
    for (p, d), g in zip(((d13, d14), (d14, d15)), gaps):
        assert detected.loc[d, "ret"] - math.log(s[d] / s[p]) == pytest.approx(math.log(g), abs=1e-12)
    # The adjusted series has no roll-day jump beyond the market's move: its returns there
    # are SOYB's (05-14: +3.07%, a real rally, SOYB too), 05-15 (the day the spread showed:
    # raw +2.17%, SOYB +0.34%) is back inside the detector's band, and the gap test on the
    # adjusted series finds nothing on either day.
    wanted = prices[prices["symbol"].isin(["ZS_F", "SOYB"])]
    spliced = splice_prices(wanted, roll_gaps(wanted, ["ZS_F"]))
    adj = spliced[spliced["symbol"] == "ZS_F"].set_index("date")["close"]
    logret = np.log(adj / adj.shift(1))
    scale = pd.Series(robust_scale(logret.to_numpy()), index=logret.index)
    for p, d in ((d13, d14), (d14, d15)):
        assert adj[d] / adj[p] == pytest.approx(s[d] / s[p], rel=1e-12)
    assert abs(logret[d15]) < 4 * scale[d15] and abs(logret[d15]) < abs(math.log(z[d15] / z[d14])) / 5
    again = detect_rolls(spliced, ["ZS_F"])
    assert not ((again["method"] == "gap") & again["date"].isin([d14, d15])).any()
    assert adj.iloc[-1] == z.iloc[-1]  # anchored at the last quote

    # The summary states the adjusted and raw totals.
    m = result.metrics
    assert m["total_pnl_raw"] == pytest.approx(result.trades["return_net_raw"].sum(), rel=1e-12)
    assert m["roll_pnl"] == pytest.approx(result.trades["roll_gap"].sum(), rel=1e-12)
    text = result.summary()
    assert f"total P&L: {100 * m['total_pnl']:+.2f}%" in text
    assert f"raw total P&L {100 * m['total_pnl_raw']:+.2f}%" in text


def test_roll_adjust_none_trades_the_raw_quotes(prices):
    result = run_backtest(soybeans(roll_adjust="none"), prices)
    t = result.trades
    assert (t["return_net"] == t["return_net_raw"]).all() and (t["roll_gap"] == 0).all()
    assert result.metrics["total_pnl"] == pytest.approx(-0.0924, abs=5e-5)  # the v1 figure
    assert "their P&L includes the" in result.summary()


def _series(symbol, start, closes, volume=None):
    days = sessions(get_asset(symbol))
    days = days[days >= pd.Timestamp(start)][: len(closes)]
    out = pd.DataFrame({"date": days, "symbol": symbol, "close": np.asarray(closes, dtype=float)})
    if volume is not None:
        out["volume"] = volume
    return out


def test_splice_replaces_the_roll_day_return_by_the_benchmarks_or_clips_it():
    # SYNTHETIC: wheat +0.1% a day, a +9% jump on a user roll day; WEAT +0.5% that day.
    n = 80
    steps = np.full(n, 1.001)
    steps[70] = 1.09
    wheat = _series("ZW_F", "2024-01-02", 500 * np.cumprod(steps))
    fund_steps = np.full(n, 1.001)
    fund_steps[70] = 1.005
    fund = _series("WEAT", "2024-01-02", 5 * np.cumprod(fund_steps))
    roll_day = wheat["date"].iloc[70]
    calendar = pd.DataFrame({"symbol": ["ZW_F"], "date": [roll_day]})
    both = pd.concat([wheat, fund], ignore_index=True)
    gaps = roll_gaps(both, ["ZW_F"], calendar)
    assert gaps["rule"].tolist() == ["benchmark:WEAT"]
    assert gaps["gap"].iloc[0] == pytest.approx(1.09 / 1.005 - 1, rel=1e-12)
    adj = splice_prices(both, gaps)
    a = adj[adj["symbol"] == "ZW_F"]["close"].to_numpy()
    r = a[1:] / a[:-1]
    assert r[69] == pytest.approx(1.005, rel=1e-12)
    assert np.delete(r, 69) == pytest.approx(np.full(n - 2, 1.001), rel=1e-12)
    assert a[-1] == wheat["close"].iloc[-1]
    # No benchmark: the log return beyond 4 robust sd is removed (the sd of a constant
    # +0.1% drift is 1.4826 * log(1.001)).
    clipped = roll_gaps(wheat, ["ZW_F"], calendar)
    band = 4 * 1.4826 * math.log(1.001)
    assert clipped["rule"].tolist() == ["clip"]
    assert clipped["gap"].iloc[0] == pytest.approx(math.expm1(math.log(1.09) - band), rel=1e-9)


def test_bad_roll_fields_name_the_field():
    with pytest.raises(SpecError, match="field 'roll_adjust'"):
        soybeans(roll_adjust="panama")
    with pytest.raises(SpecError, match="field 'roll_days'.*no such roll calendar"):
        soybeans(roll_days="nowhere.csv")


# --- placebo replays the rule --------------------------------------------------------------

def _events(*rows):
    recs = [{"event_id": e, "date": d, "time_local": "10:00", "timezone": "America/New_York", "actor": "US",
             "kind": "tariff", "direction": "escalation", "title": e, "source": "test", "confidence": "high",
             "us_timing": ""} for e, d in rows]
    return catalog_from_frame(pd.DataFrame(recs), "test")


def test_placebo_replays_the_stop_loss_and_equals_a_hand_replayed_draw():
    rng = np.random.default_rng(8)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, 200)))  # SYNTHETIC random walk
    prices = _series("SPY", "2024-01-02", closes)
    dates = prices["date"]
    cat = _events(("E1", f"{dates[20]:%Y-%m-%d}"), ("E2", f"{dates[90]:%Y-%m-%d}"))
    base = {"name": "t", "assets": ["SPY"], "signs": {"escalation": "short"}, "holding": 5, "overlap": "allow",
            "costs_bps": 2, "placebo": {"runs": 40, "seed": 3}}
    stop = run_backtest(rule_from_dict(base | {"exit": {"stop_loss_bps": 100}}), prices, cat)
    plain = run_backtest(rule_from_dict(base), prices, cat)
    assert not np.allclose(stop.placebo["mean_return"], plain.placebo["mean_return"])

    # Hand replay: weeks drawn per announcement, the pseudo date keeps weekday and 10:00 ET;
    # a 10:00 announcement enters at that session's close; short, out at the first close
    # 1% against the entry, else after 5 sessions; 2 bp per side.
    day = pd.DatetimeIndex(dates)
    last_ok = day[len(day) - 5 - 2]
    real = [day[20], day[90]]
    lo = np.array([-((d - day[20]).days // 7) for d in real])
    hi = np.array([(last_ok - d).days // 7 for d in real])
    weeks = np.random.default_rng(3).integers(lo, hi + 1, size=(40, 2))
    stops = 0
    for run in range(40):
        nets = []
        for d, w in zip(real, weeks[run]):
            i = int(day.searchsorted(d + pd.Timedelta(days=7 * int(w))))  # the pseudo date's close (or next)
            exit_row = i + 5
            for j in range(i + 1, i + 6):
                if -(closes[j] / closes[i] - 1) <= -0.01:
                    exit_row, stops = j, stops + 1
                    break
            nets.append(-(closes[exit_row] / closes[i] - 1) - 4 / 1e4)
        assert stop.placebo["mean_return"].iloc[run] == pytest.approx(np.mean(nets), rel=1e-12)
        assert stop.placebo["n_trades"].iloc[run] == 2
    assert stops > 10  # the stop is really exercised by the draws


def test_placebo_shares_pseudo_dates_across_assets(prices):
    r = rule_from_dict({"name": "t", "assets": ["SPY", "QQQ"], "signs": {"escalation": "short"}, "holding": 1,
                        "events": {"actor": "China", "kind": "retaliation"}, "overlap": "allow",
                        "placebo": {"runs": 30, "seed": 2}})
    result = run_backtest(r, prices)
    # With one pseudo date per announcement, both ETFs trade every placebo announcement.
    assert (result.placebo["n_trades"] == 2 * result.trades["event_id"].nunique()).all()


# --- statistics -----------------------------------------------------------------------------

def test_deflated_sharpe_equals_the_papers_formula_by_hand():
    phi, inv = NormalDist().cdf, NormalDist().inv_cdf
    sr, n, skew, kurt = 0.09, 300, -0.8, 6.5
    trials = [0.09, 0.02, -0.03, 0.05, 0.01]
    mean = sum(trials) / len(trials)
    v = sum((x - mean) ** 2 for x in trials) / (len(trials) - 1)
    g, N = 0.5772156649015329, len(trials)
    sr0 = math.sqrt(v) * ((1 - g) * inv(1 - 1 / N) + g * inv(1 - 1 / (N * math.e)))
    dsr = phi((sr - sr0) * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr ** 2))
    got, got_sr0 = deflated_sharpe(sr, n, skew, kurt, trials)
    assert got_sr0 == pytest.approx(sr0, abs=1e-10)
    assert got == pytest.approx(dsr, abs=1e-10)
    psr = phi(sr * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr ** 2))
    assert probabilistic_sharpe(sr, n, skew, kurt) == pytest.approx(psr, abs=1e-10)
    # The paper's numerical example (2014, section 6): SR0 = 0.1132, DSR = 0.9004.
    sr0_paper = expected_max_sharpe(100, 0.5 / 250)
    assert sr0_paper == pytest.approx(0.1132, abs=5e-5)
    assert probabilistic_sharpe(2.5 / math.sqrt(250), 1250, -3, 10, sr0_paper) == pytest.approx(0.9004, abs=5e-5)
    assert expected_max_sharpe(1, 0.3) == 0.0


def test_deflate_uses_every_rule_of_the_run(prices):
    a = run_backtest(soybeans(), prices)
    b = run_backtest(soybeans(name="b", holding=3), prices)
    assert a.metrics["dsr"] == a.metrics["psr"] and a.metrics["trials"] == 1
    deflate([a, b], n_trials=10)
    srs = [a.metrics["sr_daily"], b.metrics["sr_daily"]]
    m = a.metrics
    expected, sr0 = deflated_sharpe(m["sr_daily"], m["n_days"], m["skew"], m["kurtosis"], srs, 10)
    assert (m["dsr"], m["sr0"], m["trials"]) == (expected, sr0, 10)
    assert m["dsr"] < m["psr"]


def test_bootstrap_ci_resamples_dates_not_trades():
    # SYNTHETIC: two dates with three identical trades each -> only two clusters to draw.
    x = np.array([0.01, 0.01, 0.01, -0.03, -0.03, -0.03])
    lo, hi = bootstrap_mean_ci(x, np.array(["a", "a", "a", "b", "b", "b"]), seed=1)
    assert lo == pytest.approx(-0.03) and hi == pytest.approx(0.01)  # all-b and all-a resamples
    per_trade = bootstrap_mean_ci(x, np.arange(6), seed=1)
    assert per_trade[0] > -0.03 and per_trade[1] < 0.01  # six independent draws: narrower


def test_walk_forward_compares_learned_signs_with_in_sample_signs(prices):
    spec = load_rule("learned_signs").to_dict() | {"placebo": {"runs": 0, "seed": 1}}
    result = run_backtest(rule_from_dict(spec), prices)
    wf = result.walk_forward.set_index("signs")
    oos = wf.loc["walk-forward signs (out of sample)"]
    assert oos["n_trades"] == len(result.trades)
    assert oos["mean_return"] == pytest.approx(result.metrics["mean_return"], rel=1e-12)
    same = wf.loc["in-sample signs, same announcements"]
    assert same["n_trades"] <= oos["n_trades"] <= wf.loc["in-sample signs, all announcements", "n_trades"]


def test_event_study_offers_the_same_splice(prices, catalog):
    from impact import EventStudy

    wanted = prices[prices["symbol"].isin(["ZS_F", "SOYB", "GSPC"])]
    events = catalog.filter(ids=["USCN-2019-04"])
    plain = EventStudy(wanted, events, assets=["ZS_F"])
    spliced = EventStudy(wanted, events, assets=["ZS_F"], roll_adjust="splice")
    z = wanted[wanted["symbol"] == "ZS_F"].set_index("date")["close"]
    s = wanted[wanted["symbol"] == "SOYB"].set_index("date")["close"]
    d14, d15 = pd.Timestamp("2019-05-14"), pd.Timestamp("2019-05-15")
    assert plain.panel.returns["ZS_F"][d15] == pytest.approx(math.log(z[d15] / z[d14]), rel=1e-12)
    assert spliced.panel.returns["ZS_F"][d15] == pytest.approx(math.log(s[d15] / s[d14]), rel=1e-12)
    other = pd.Timestamp("2019-05-20")
    assert spliced.panel.returns["ZS_F"][other] == pytest.approx(plain.panel.returns["ZS_F"][other], rel=1e-12)
    with pytest.raises(DataError, match="needs roll days"):
        EventStudy(wanted, events, assets=["ZS_F"], roll_adjust="splice", roll_days=None)
