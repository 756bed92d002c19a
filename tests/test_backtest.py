"""Backtester: hand-checked trades and P&L, no look-ahead, placebo, CLI.

Prices marked SYNTHETIC are made up in the test (on real exchange sessions) so
that every number can be computed by hand; the rest use the real bundled sample.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact.backtest import rule_from_dict, run_backtest
from impact.backtest.metrics import max_drawdown
from impact.cli.main import main
from impact.events.assets import get_asset
from impact.events.calendars import sessions
from impact.events.catalog import catalog_from_frame


def events(*rows):
    """A small catalog: (event_id, date, time_local, direction[, us_timing, timezone])."""
    recs = []
    for row in rows:
        eid, day, time, direction, *rest = row
        timing = rest[0] if rest else ""
        zone = rest[1] if len(rest) > 1 else "America/New_York"
        recs.append({"event_id": eid, "date": day, "time_local": time, "timezone": zone, "actor": "US",
                     "kind": "tariff", "direction": direction, "title": eid, "source": "test",
                     "confidence": "high", "us_timing": timing})
    return catalog_from_frame(pd.DataFrame(recs), "test")


def synthetic_prices(symbol: str, start: str, closes, opens=None) -> pd.DataFrame:
    """SYNTHETIC closes on the asset's real sessions from ``start``."""
    days = sessions(get_asset(symbol))
    days = days[days >= pd.Timestamp(start)][: len(closes)]
    frame = pd.DataFrame({"date": days, "symbol": symbol, "close": np.asarray(closes, dtype=float)})
    if opens is not None:
        frame["open"] = np.asarray(opens, dtype=float)
    return frame


def rule(**kw):
    base = {"name": "t", "assets": ["SPY"], "signs": {"escalation": "short", "de-escalation": "long"},
            "holding": 2, "placebo": {"runs": 0, "seed": 1}}
    return rule_from_dict(base | kw)


# --- hand-checked rule -----------------------------------------------------------------

def test_hand_checked_trades_pnl_and_costs():
    # SYNTHETIC SPY closes on the NYSE sessions from Mon 2024-03-04.
    closes = [100.0, 102.0, 101.0, 99.0, 98.0, 103.0, 104.0, 100.0, 101.0, 105.0]
    prices = synthetic_prices("SPY", "2024-03-04", closes)
    dates = list(prices["date"])
    cat = events(("E1", "2024-03-05", "10:00", "escalation"),       # priced at the 03-05 close (row 1)
                 ("E2", "2024-03-08", "16:30", "de-escalation"))   # after the close: 03-11 close (row 5)
    r = rule(costs_bps={"equity_etf": 10}, slippage_bps={"equity_etf": 5, "default": 50})
    result = run_backtest(r, prices, cat)
    t = result.trades
    # by hand: E1 short 102 -> 99 (rows 1 -> 3); E2 long 103 -> 100 (rows 5 -> 7); 15 bp per side
    cost = 2 * (10 + 5) / 1e4
    g1, g2 = -1 * (99.0 / 102.0 - 1), +1 * (100.0 / 103.0 - 1)
    assert list(t["event_id"]) == ["E1", "E2"]
    assert list(t["side"]) == ["short", "long"]
    assert list(t["entry_date"]) == [dates[1], dates[5]]
    assert list(t["exit_date"]) == [dates[3], dates[7]]
    assert list(t["entry_price"]) == [102.0, 103.0] and list(t["exit_price"]) == [99.0, 100.0]
    assert list(t["cost"]) == [cost, cost]
    assert list(t["return_gross"]) == [g1, g2]
    assert list(t["return_net"]) == [g1 - cost, g2 - cost]
    assert list(t["pnl"]) == [g1 - cost, g2 - cost]
    assert t["cum_pnl"].iloc[-1] == (g1 - cost) + (g2 - cost)
    m = result.metrics
    assert m["n_trades"] == 2 and m["hit_rate"] == 0.5
    ref = stats.ttest_1samp([g1 - cost, g2 - cost], 0.0)
    assert m["t_stat"] == pytest.approx(ref.statistic, rel=1e-12)
    assert m["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    # Daily marks sum to the trades' P&L; the drawdown is the fall from +g1-cost.
    assert result.daily["pnl"].sum() == pytest.approx(m["total_pnl"], abs=1e-15)
    # Exposure: held over 03-06, 03-07 and 03-12, 03-13 of the weekdays 03-05 .. 03-13.
    assert m["exposure"] == 4 / 7
    daily = result.daily.set_index("date")["pnl"]
    assert daily[dates[7]] == pytest.approx((100.0 - 104.0) / 103.0 - cost / 2, abs=1e-15)
    path = np.cumsum(daily.to_numpy())
    assert m["max_drawdown"] == pytest.approx(path.max() - path.min(), abs=1e-15)
    # Sharpe by hand over the weekdays 03-05 .. 03-13 (03-08 and 03-11 carry no price move).
    by_hand = np.array([
        -cost / 2,                          # 03-05 short 102: entry cost
        -(101.0 - 102.0) / 102.0,           # 03-06
        -(99.0 - 101.0) / 102.0 - cost / 2,  # 03-07 exit
        0.0,                                # 03-08 flat
        -cost / 2,                          # 03-11 long 103: entry cost
        (104.0 - 103.0) / 103.0,            # 03-12
        (100.0 - 104.0) / 103.0 - cost / 2,  # 03-13 exit
    ])
    assert daily.to_numpy() == pytest.approx(np.delete(by_hand, 3), abs=1e-15)
    assert m["sharpe"] == pytest.approx(by_hand.mean() / by_hand.std(ddof=1) * np.sqrt(252), rel=1e-12)
    hand_path = np.cumsum(by_hand)
    assert m["max_drawdown"] == pytest.approx(np.max(np.maximum.accumulate(np.maximum(hand_path, 0)) - hand_path))


def test_max_drawdown_by_hand():
    assert max_drawdown(np.array([0.01, 0.03, -0.02, 0.0, -0.04, 0.05])) == pytest.approx(0.07)
    assert max_drawdown(np.array([-0.01, -0.02])) == pytest.approx(0.02)  # the peak starts at 0


def test_next_open_entry_uses_open_and_counts_the_entry_session():
    closes = [100.0, 102.0, 101.0, 99.0, 98.0]
    opens = [99.0, 101.0, 103.0, 100.0, 97.0]  # SYNTHETIC
    prices = synthetic_prices("SPY", "2024-03-04", closes, opens)
    cat = events(("E1", "2024-03-05", "10:00", "escalation"))  # after the 09:30 open: next open is 03-06
    result = run_backtest(rule(entry="next_open", holding=2), prices, cat)
    t = result.trades.iloc[0]
    assert t["entry_date"] == prices["date"].iloc[2] and t["entry_price"] == 103.0
    assert t["exit_date"] == prices["date"].iloc[3] and t["exit_price"] == 99.0
    assert t["return_net"] == -1 * (99.0 / 103.0 - 1)
    early = run_backtest(rule(entry="next_open", holding=2), prices,
                         events(("E1", "2024-03-05", "08:59", "escalation")))
    assert early.trades["entry_price"].iloc[0] == 101.0  # before the open (and its auction): that open
    auction = run_backtest(rule(entry="next_open", holding=2), prices,
                           events(("E1", "2024-03-05", "09:00", "escalation")))
    assert auction.trades["entry_price"].iloc[0] == 103.0  # the open may be struck from 09:00: next one


def test_stop_loss_exits_at_first_close_past_the_level():
    closes = [100.0, 100.0, 101.0, 103.5, 90.0, 80.0]  # SYNTHETIC
    prices = synthetic_prices("SPY", "2024-03-04", closes)
    cat = events(("E1", "2024-03-05", "10:00", "escalation"))
    result = run_backtest(rule(holding=4, exit={"stop_loss_bps": 300}), prices, cat)
    t = result.trades.iloc[0]
    assert t["exit_reason"] == "stop_loss" and t["exit_price"] == 103.5 and t["sessions"] == 2
    result = run_backtest(rule(holding=4, exit={"take_profit_bps": 1500}), prices, cat)
    assert result.trades["exit_reason"].iloc[0] == "take_profit" and result.trades["exit_price"].iloc[0] == 80.0


def test_volatility_sizing_uses_returns_known_at_entry():
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40)))  # SYNTHETIC
    prices = synthetic_prices("SPY", "2024-01-02", closes)
    day = prices["date"].iloc[30]
    cat = events(("E1", f"{day:%Y-%m-%d}", "10:00", "escalation"))
    sizing = {"volatility": {"target": 0.02, "lookback": 20, "max_weight": 10}}
    t = run_backtest(rule(sizing=sizing), prices, cat).trades.iloc[0]
    window = closes[10:31]
    sigma = np.std(np.diff(window) / window[:-1], ddof=1)
    assert t["weight"] == pytest.approx(0.02 / sigma, rel=1e-12)
    assert t["pnl"] == pytest.approx(t["weight"] * t["return_net"], rel=1e-15)


# --- no look-ahead ---------------------------------------------------------------------

@pytest.mark.parametrize("symbol", ["SPY", "ZS_F"])
def test_moving_announcement_from_10_to_17_et_moves_entry_one_session(prices, symbol):
    r = rule(assets=[symbol], holding=1)
    early = run_backtest(r, prices, events(("E", "2025-10-08", "10:00", "escalation"))).trades.iloc[0]
    late = run_backtest(r, prices, events(("E", "2025-10-08", "17:00", "escalation"))).trades.iloc[0]
    days = list(sessions(get_asset(symbol)))
    assert early["entry_date"] == pd.Timestamp("2025-10-08")
    assert days.index(late["entry_date"]) == days.index(early["entry_date"]) + 1
    real = prices[(prices["symbol"] == symbol)].set_index("date")
    column = "adj_close" if symbol == "SPY" else "close"
    assert late["entry_price"] == pytest.approx(real.loc[late["entry_date"], column])


def test_unknown_time_enters_after_the_latest_possible_instant(prices):
    # "intraday" (09:30-16:00 ET) without a time: CBOT soybeans settle at 13:15 CT =
    # 14:15 ET, so the news may come after that settlement: enter at the next one.
    r = rule(assets=["ZS_F", "SPY"], holding=1)
    t = run_backtest(r, prices, events(("E", "2025-10-08", "", "escalation", "intraday"))).trades
    entry = t.set_index("asset")["entry_date"]
    assert entry["ZS_F"] == pd.Timestamp("2025-10-09")
    assert entry["SPY"] == pd.Timestamp("2025-10-08")  # the NYSE close at 16:00 is after the whole window


def _rising_then_falling():
    """SYNTHETIC SPY path: up 1% a session for 30 sessions, then down 1% a session."""
    steps = np.r_[np.full(30, 1.01), np.full(30, 0.99)]
    return synthetic_prices("SPY", "2024-01-02", 100 * np.cumprod(steps))


def test_learned_signs_walk_forward_cannot_see_future_outcomes():
    prices = _rising_then_falling()
    d = prices["date"].dt.strftime("%Y-%m-%d").tolist()
    cat = events(*[(f"E{i}", d[k], "10:00", "escalation") for i, k in enumerate([2, 8, 14, 20, 40, 46])])
    r = rule(signs="learned", learning={"min_events": 2}, holding=3)
    result = run_backtest(r, prices, cat)
    sides = result.trades.set_index("event_id")["side"]
    assert set(result.skipped["event_id"]) == {"E0", "E1"}  # nothing (then one outcome) learned yet
    # E2..E4 learn from rising outcomes only; E4 loses money because the trend turned after
    # entry - its own and E5's falling outcomes are in the future and must not flip it.
    assert list(sides[["E2", "E3", "E4"]]) == ["long", "long", "long"]
    assert result.trades.set_index("event_id").loc["E4", "return_gross"] < 0
    # Rewriting everything after E3's entry cannot change E2 or E3.
    cut = result.trades.set_index("event_id").loc["E3", "entry_date"]
    altered = prices.copy()
    late = altered["date"] > cut
    altered.loc[late, "close"] = altered.loc[late, "close"] * np.linspace(0.2, 5.0, late.sum())
    again = run_backtest(r, altered, cat).trades.set_index("event_id")
    before = result.trades.set_index("event_id")
    for eid in ("E2", "E3"):
        assert again.loc[eid, "side"] == before.loc[eid, "side"]


def test_learned_sign_ignores_an_outcome_not_finished_before_entry():
    prices = _rising_then_falling()
    d = prices["date"].dt.strftime("%Y-%m-%d").tolist()
    # E1 is entered at row 4, its 3-session outcome ends at row 7; E2 enters at row 7 (same close):
    # that outcome is not yet known strictly before the entry, so E2 has only E0 to learn from.
    cat = events(("E0", d[0], "10:00", "escalation"), ("E1", d[4], "10:00", "escalation"),
                 ("E2", d[7], "10:00", "escalation"))
    r = rule(signs="learned", learning={"min_events": 2}, holding=3, overlap="allow")
    result = run_backtest(r, prices, cat)
    assert "E2" in set(result.skipped["event_id"])
    assert "1 earlier escalation outcome" in result.skipped.set_index("event_id").loc["E2", "reason"]


# --- placebo ---------------------------------------------------------------------------

def test_placebo_on_a_constant_growth_path_matches_the_real_trade():
    steps = np.full(80, 1.01)  # SYNTHETIC: +1% every session, so every entry date earns the same
    prices = synthetic_prices("SPY", "2024-01-02", 100 * np.cumprod(steps))
    d = prices["date"].dt.strftime("%Y-%m-%d").tolist()
    cat = events(("E1", d[5], "10:00", "de-escalation"))
    r = rule(holding=3, placebo={"runs": 50, "seed": 9}, costs_bps=4)
    result = run_backtest(r, prices, cat)
    expected = 1.01 ** 3 - 1 - 8 / 1e4
    assert result.trades["return_net"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert np.allclose(result.placebo["mean_return"], expected, rtol=1e-12)
    assert len(result.placebo) == 50


def test_placebo_is_seeded_and_reports_a_percentile(prices):
    spec = {"events": {"actor": "China", "kind": "retaliation"}, "assets": ["ZS_F"],
            "signs": {"escalation": "short"}, "holding": 5, "placebo": {"runs": 200, "seed": 5}}
    a = run_backtest(rule(**spec), prices)
    b = run_backtest(rule(**spec), prices)
    pd.testing.assert_frame_equal(a.placebo, b.placebo)
    p = a.metrics["placebo_percentile"]
    assert p == 100 * (a.placebo["mean_return"] <= a.metrics["mean_return"]).mean()
    assert 0 <= p <= 100
    c = run_backtest(rule(**(spec | {"placebo": {"runs": 200, "seed": 6}})), prices)
    assert not a.placebo["mean_return"].equals(c.placebo["mean_return"])


# --- the shipped example, CLI and HTML ---------------------------------------------------

def test_shipped_soybean_spec_runs_offline_and_matches_the_bundled_prices(prices, capsys):
    assert main(["backtest", "soybeans_retaliation", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), parse_dates=["entry_date", "exit_date"])
    assert {"event_id", "asset", "entry_date", "exit_date", "side", "return_net"} <= set(table.columns)
    assert len(table) >= 8 and (table["side"] == "short").all() and (table["asset"] == "ZS_F").all()
    zs = prices[prices["symbol"] == "ZS_F"].set_index("date")["close"]
    row = table.set_index("event_id").loc["USCN-2025-07"]  # retaliation, Fri 2025-04-04 before the open
    assert row["entry_date"] == pd.Timestamp("2025-04-04")
    days = list(zs.index)
    assert days.index(row["exit_date"]) == days.index(row["entry_date"]) + 5
    gross = -(zs[row["exit_date"]] / zs[row["entry_date"]] - 1)
    assert row["return_net"] == pytest.approx(gross - 2 * (2 + 3) / 1e4, rel=1e-9)


def test_backtest_out_writes_html_with_equity_curve_and_trades(tmp_path, capsys):
    assert main(["backtest", "soybeans_retaliation", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hit rate" in out and "placebo" in out
    folder = tmp_path / "soybeans_retaliation"
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert 'src="figures/equity.png"' in html and "USCN-2025-07" in html
    assert (folder / "figures" / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trades = pd.read_csv(folder / "trades.csv")
    assert trades["event_id"].str.count("USCN").sum() == len(trades) and len(trades) >= 8
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_html_escapes_spec_text(tmp_path, prices):
    from impact.backtest.output import write_backtest_report

    r = rule(assets=["SPY"], title="<script>x</script>", placebo={"runs": 5, "seed": 1},
             events={"actor": "China", "kind": "retaliation"})
    index = write_backtest_report(run_backtest(r, prices), tmp_path)
    html = index.read_text(encoding="utf-8")
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


def test_trades_holding_through_a_futures_roll_are_flagged_not_dropped(prices):
    from impact.data.rolls import detect_rolls

    r = rule(assets=["ZS_F"], signs={"escalation": "short", "de-escalation": "long"}, holding=3)
    trades = run_backtest(r, prices).trades
    rolls = set(detect_rolls(prices, ["ZS_F"])["date"])
    flagged = trades[trades["flags"] != ""]
    assert len(flagged) >= 3
    for t in trades.itertuples():
        expected = sorted(d for d in rolls if t.entry_date < d <= t.exit_date)
        assert t.flags == ";".join(f"roll:{d:%Y-%m-%d}" for d in expected)


def test_failed_html_write_leaves_no_partial_folder(tmp_path, prices, monkeypatch):
    from impact.backtest import output

    r = rule(assets=["ZS_F"], events={"actor": "China", "kind": "retaliation"}, placebo={"runs": 5, "seed": 1})
    result = run_backtest(r, prices)
    index = output.write_backtest_report(result, tmp_path)
    before = index.read_text(encoding="utf-8")

    def boom(_):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(output, "equity_figure", boom)
    with pytest.raises(RuntimeError):
        output.write_backtest_report(result, tmp_path)
    assert index.read_text(encoding="utf-8") == before  # the previous page is intact
    assert [p.name for p in tmp_path.iterdir()] == ["t"]  # no temporary folders left


def test_exit_on_the_next_opposite_announcement_even_outside_the_filter():
    closes = [100.0, 102.0, 101.0, 99.0, 98.0, 97.0, 96.0, 95.0]  # SYNTHETIC
    prices = synthetic_prices("SPY", "2024-03-04", closes)
    dates = list(prices["date"])
    cat = events(("E0", "2024-03-01", "12:00", "de-escalation"),   # before the trade: irrelevant
                 ("E1", "2024-03-05", "10:00", "escalation"),      # short at the 03-05 close (102)
                 ("E2", "2024-03-06", "17:00", "de-escalation"))   # after the 03-06 close: out at 03-07's
    r = rule(holding=5, events={"direction": "escalation"}, exit={"opposite_event": True})
    t = run_backtest(r, prices, cat).trades
    assert list(t["event_id"]) == ["E1"]  # E2 is filtered out of trading but still ends the trade
    assert t["exit_date"].iloc[0] == dates[3] and t["exit_reason"].iloc[0] == "opposite_event:E2"
    assert t["return_gross"].iloc[0] == -1 * (99.0 / 102.0 - 1)
    plain = run_backtest(rule(holding=5, events={"direction": "escalation"}), prices, cat).trades
    assert plain["exit_date"].iloc[0] == dates[6] and plain["exit_reason"].iloc[0] == "holding"


def test_close_entry_is_the_event_study_day0_under_the_latest_policy(prices, catalog):
    from impact.events.align import align_events

    assets = ["SPY", "ZS_F", "HSI", "DEXCHUS", "USDCNY_X"]
    r = rule(assets=assets, signs={"escalation": "long", "de-escalation": "long", "neutral": "long"},
             holding=1, overlap="allow")
    trades = run_backtest(r, prices, catalog).trades
    day0 = align_events(catalog.events, assets, policy="latest")
    merged = trades.merge(day0, on=["event_id", "asset"])
    assert len(merged) == len(trades) > 300
    have = {a: set(prices.loc[prices["symbol"] == a, "date"]) for a in assets}
    on_day0 = merged[[d in have[a] for a, d in zip(merged["asset"], merged["day0"])]]
    assert len(on_day0) > 0.95 * len(merged)
    assert (on_day0["entry_date"] == on_day0["day0"]).all()
    assert (merged["entry_date"] >= merged["day0"]).all()  # a missing price row only delays entry


def test_signals_without_enough_data_are_skipped_with_a_reason():
    prices = synthetic_prices("SPY", "2024-03-04", [100.0, 101.0, 102.0, 103.0])  # SYNTHETIC
    cat = events(("E1", "2024-03-06", "10:00", "escalation"),   # entry row 2, exit would be row 4
                 ("E2", "2024-06-03", "10:00", "escalation"),   # after the last price
                 ("E3", "2024-03-04", "10:00", "neutral"))      # no sign for neutral
    result = run_backtest(rule(holding=2), prices, cat)
    assert result.trades.empty and result.metrics["n_trades"] == 0
    reasons = result.skipped.set_index("event_id")["reason"]
    assert reasons["E1"].startswith("holding period of 2 sessions runs past the last price")
    assert reasons["E2"] == "no price struck after the announcement"
    assert reasons["E3"] == "no position for a neutral event on SPY"
    assert "no trades" in result.summary()


def test_placebo_next_open_on_a_constant_growth_path():
    closes = 100 * np.cumprod(np.full(60, 1.01))  # SYNTHETIC: +1% a session, opens at the previous close
    opens = np.r_[100.0, closes[:-1]]
    prices = synthetic_prices("SPY", "2024-01-02", closes, opens)
    d = prices["date"].dt.strftime("%Y-%m-%d").tolist()
    r = rule(entry="next_open", holding=3, placebo={"runs": 20, "seed": 2})
    result = run_backtest(r, prices, events(("E1", d[5], "10:00", "de-escalation")))
    # open of row 6 (= close of row 5) to the close of row 8: three sessions of +1%
    expected = 1.01 ** 3 - 1
    assert result.trades["return_net"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert np.allclose(result.placebo["mean_return"], expected, rtol=1e-12)


def test_result_renders_in_a_notebook(prices):
    r = rule(assets=["ZS_F"], events={"actor": "China", "kind": "retaliation"}, placebo={"runs": 10, "seed": 1})
    html = run_backtest(r, prices)._repr_html_()
    assert "hit rate" in html and "USCN-2025-07" in html and "<table" in html


def test_by_period_splits_the_trades(prices):
    r = rule(assets=["ZS_F"], events={"actor": "China", "kind": "retaliation"}, placebo={"runs": 0, "seed": 1})
    result = run_backtest(r, prices)
    years = result.by_period("Y").set_index("period")
    assert years["n_trades"].sum() == len(result.trades)
    assert years["total_pnl"].sum() == pytest.approx(result.metrics["total_pnl"], abs=1e-12)
    y2025 = result.trades[pd.to_datetime(result.trades["entry_date"]).dt.year == 2025]
    assert years.loc["2025", "mean_return"] == pytest.approx(y2025["return_net"].mean(), rel=1e-12)


def test_soybean_trades_against_the_shared_raw_prices(shared_dir):
    """Entry/exit settlements, raw and roll-adjusted net returns re-derived from
    ../shared/data/prices/ZS_F.csv and SOYB.csv (the roll benchmark)."""
    from impact.backtest import load_rule

    def closes(name):
        return pd.read_csv(shared_dir / "data" / "prices" / f"{name}.csv", parse_dates=["date"]).set_index("date")["close"]

    raw, soyb = closes("ZS_F"), closes("SOYB")
    result = run_backtest(load_rule("soybeans_retaliation"))
    assert len(result.trades) >= 8
    days = list(raw.index)
    for t in result.trades.itertuples():
        assert t.entry_price == raw[t.entry_date] and t.exit_price == raw[t.exit_date]
        assert days.index(t.exit_date) - days.index(t.entry_date) == 5
        long_raw = raw[t.exit_date] / raw[t.entry_date]
        assert t.return_net_raw == pytest.approx(-(long_raw - 1) - 10 / 1e4, rel=1e-12)
        # each crossed roll day's return is replaced by SOYB's: divide out (1 + r) / (1 + b)
        gaps = [(raw[d] / raw.shift(1)[d]) / (soyb[d] / soyb.shift(1)[d]) for d in pd.to_datetime(
            [x for x in t.roll_days.split(";") if x])]
        assert t.return_net == pytest.approx(-(long_raw / np.prod(gaps) - 1) - 10 / 1e4, rel=1e-12)
    assert result.trades["roll_days"].tolist().count("") == len(result.trades) - 2


def test_price_rows_off_the_calendar_are_reported_not_silently_dropped(prices):
    r = rule(assets=["ZS_F"], events={"actor": "China", "kind": "retaliation"}, placebo={"runs": 0, "seed": 1})
    result = run_backtest(r, prices)
    off = pd.DatetimeIndex(prices.loc[prices["symbol"] == "ZS_F", "date"]).difference(sessions(get_asset("ZS_F")))
    assert len(off) >= 1  # the bundled data has rows on dates its calendar does not list
    listed = ", ".join(f"{d:%Y-%m-%d}" for d in off[:5]) + (", ..." if len(off) > 5 else "")
    assert result.notes == [f"ZS_F: {len(off)} price row(s) on dates that are not sessions of its calendar "
                            f"ignored ({listed})"]
    assert f"note: ZS_F: {len(off)} price row(s)" in result.summary()
    assert not (result.trades["entry_date"].isin(off) | result.trades["exit_date"].isin(off)).any()
