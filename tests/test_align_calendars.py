"""Per-asset calendars and settlement instants on real calendars, checked against the
days the bundled real price series actually trade, and the close-after rule on every
(catalog event, bundled asset) pair."""
from __future__ import annotations

import pandas as pd
import pytest
from catalog_rows import catalog_events as _events

from impact.errors import ImpactError
from impact.events.align import align_catalog, align_events
from impact.events.assets import get_asset, registry
from impact.events.calendars import get_calendar, session_closes, sessions


def _day0(events, assets, policy="earliest"):
    out = align_events(events, assets, policy)
    return {(r.event_id, r.asset): (r.day0.strftime("%Y-%m-%d") if not pd.isna(r.day0) else None)
            for r in out.itertuples()}


# Days where a calendar and the bundled real series disagree, and why. Everything else matches.
KNOWN_DIFFERENCES = {
    # symbol: (calendar sessions without a price row, price rows on non-sessions)
    # HSI's typhoon/black-rainstorm closures (2023-09-01, 09-08) and the federal closures in
    # DEXCHUS's calendar are impact.events.calendars.UNSCHEDULED_CLOSURES, so they no longer differ.
    "000001_SS": ({"2019-04-29", "2019-04-30"}, set()),    # rows missing from the Yahoo source
    "ZS_F": (set(), {"2025-01-09"}),                        # Carter day of mourning: NYSE shut, CBOT grains traded
    "ZW_F": (set(), {"2025-01-09"}),
    "ZC_F": ({"2018-12-17", "2018-12-18"}, {"2025-01-09"}),  # two rows missing from the source
    "HG_F": ({"2018-01-29"}, {"2023-11-23", "2025-01-09", "2025-07-04"}),  # Yahoo rows from Globex holiday trading
    "GC_F": ({"2018-01-29"}, {"2025-01-09", "2025-07-04"}),
    "CT1": (set(), {"2018-12-05", "2025-01-09"}),           # ICE softs traded on both days of mourning
    # FRED has no H.10 value on inaugurations, executive-order closures and 2 odd days; Juneteenth
    # 2021 (signed 17 June) was observed on Friday 18 June, when the Fed still published.
    "DEXCHUS": ({"2019-01-14", "2019-02-20", "2020-11-27"}, {"2021-06-18"}),
}


def test_calendars_match_the_days_each_bundled_series_trades(prices):
    checked = 0
    for symbol in ["SPY", "GSPC", "SOXX", "KWEB", "MP", "HSI", "000001_SS", "ZS_F", "ZW_F", "ZC_F", "HG_F",
                   "GC_F", "CT1", "DEXCHUS"]:
        have = pd.DatetimeIndex(prices.loc[prices["symbol"] == symbol, "date"])
        cal = sessions(get_asset(symbol))
        cal = cal[(cal >= have.min()) & (cal <= have.max())]
        cal_only = {d.strftime("%Y-%m-%d") for d in cal.difference(have)}
        data_only = {d.strftime("%Y-%m-%d") for d in have.difference(cal)}
        assert (cal_only, data_only) == KNOWN_DIFFERENCES.get(symbol, (set(), set())), symbol
        checked += len(have)
    assert checked > 30000


def test_exchange_calendars_cmes_would_be_wrong_for_grains(prices):
    """Why grains do not use exchange_calendars' CMES: it has sessions on US holidays."""
    have = pd.DatetimeIndex(prices.loc[prices["symbol"] == "ZS_F", "date"])
    cmes = get_calendar("CMES").sessions
    cmes = cmes[(cmes >= have.min()) & (cmes <= have.max())]
    assert pd.Timestamp("2019-09-02") in cmes                 # Labor Day
    assert pd.Timestamp("2019-09-02") not in sessions(get_asset("ZS_F"))
    assert len(cmes.difference(have)) == 58


def test_labor_day_and_sunday_evening_cbot_session_belong_to_the_next_trade_date():
    ev = _events(("fri", "2019-08-30", "14:00", "America/Chicago", ""),   # after the 13:15 CT settlement
                 ("sun", "2019-09-01", "19:00", "America/Chicago", ""),   # Sunday evening, Labor Day weekend
                 ("sun2", "2025-10-12", "19:30", "America/Chicago", ""))  # Sunday-evening Globex session
    got = _day0(ev, ["ZS_F", "SPY", "HG_F"])
    assert got[("fri", "ZS_F")] == "2019-09-03"
    assert got[("fri", "SPY")] == "2019-08-30"      # 15:00 ET, before the NYSE close
    assert got[("sun", "ZS_F")] == "2019-09-03"
    assert got[("sun", "HG_F")] == "2019-09-03"     # no COMEX settlement on Labor Day
    assert got[("sun2", "ZS_F")] == "2025-10-13"    # Columbus Day: grains trade, Monday's trade date
    assert got[("sun2", "SPY")] == "2025-10-13"


def test_settlement_times_separate_copper_gold_cotton_and_stocks():
    ev = _events(("t1315", "2025-06-10", "13:15", "America/New_York", ""),
                 ("t1400", "2025-06-10", "14:00", "America/New_York", ""),
                 ("t1430", "2025-06-10", "14:30", "America/New_York", ""))
    got = _day0(ev, ["HG_F", "GC_F", "CT1", "ZS_F", "SPY"])
    assert (got[("t1315", "HG_F")], got[("t1315", "GC_F")]) == ("2025-06-11", "2025-06-10")  # 13:00 vs 13:30 ET
    assert got[("t1315", "ZS_F")] == "2025-06-10"   # 12:15 CT, before the 13:15 CT settlement
    assert got[("t1400", "ZS_F")] == "2025-06-10"   # 13:00 CT
    assert got[("t1430", "ZS_F")] == "2025-06-11"   # 13:30 CT, after the settlement
    assert got[("t1400", "CT1")] == "2025-06-10"    # cotton settles 14:20 ET
    assert got[("t1430", "CT1")] == "2025-06-11"
    assert got[("t1430", "SPY")] == "2025-06-10"
    struck = session_closes(get_asset("ZS_F")).loc["2025-06-10"].tz_convert("America/Chicago")
    assert (struck.hour, struck.minute) == (13, 15)


def test_early_close_caps_the_settlement_time():
    """Friday after Thanksgiving: CBOT grains shut at 12:00 CT, NYSE at 13:00 ET."""
    ev = _events(("am", "2025-11-28", "11:30", "America/Chicago", ""),
                 ("pm", "2025-11-28", "12:30", "America/Chicago", ""))
    got = _day0(ev, ["ZS_F", "SPY"])
    assert got[("am", "ZS_F")] == got[("am", "SPY")] == "2025-11-28"
    assert got[("pm", "ZS_F")] == got[("pm", "SPY")] == "2025-12-01"


def test_lunar_new_year_and_golden_week_closures():
    ev = _events(("lny", "2025-01-27", "16:00", "Asia/Shanghai", ""),    # after the 15:00 Shanghai close
                 ("gw19", "2019-09-30", "15:30", "Asia/Shanghai", ""),
                 ("gw19b", "2019-09-30", "16:30", "Asia/Shanghai", ""))
    got = _day0(ev, ["000001_SS", "HSI", "SPY"])
    assert got[("lny", "000001_SS")] == "2025-02-05"   # closed 28 Jan - 4 Feb 2025
    assert got[("lny", "HSI")] == "2025-01-28"         # 16:00 HKT is the close itself: not strictly after
    assert got[("lny", "SPY")] == "2025-01-27"         # 03:00 ET
    assert got[("gw19", "000001_SS")] == "2019-10-08"  # Golden Week 1-7 Oct 2019
    assert got[("gw19", "HSI")] == "2019-09-30"        # before the 16:00 HK close
    assert got[("gw19b", "000001_SS")] == "2019-10-08"
    assert got[("gw19b", "HSI")] == "2019-10-02"       # HK closed 1 Oct only


def test_usd_cny_fixing_follows_federal_reserve_days():
    ev = _events(("sun", "2025-10-12", "", "America/New_York", "weekend"),
                 ("am", "2025-06-10", "11:00", "America/New_York", ""),
                 ("pm", "2025-06-10", "12:30", "America/New_York", ""),
                 ("gf", "2025-04-18", "09:00", "America/New_York", ""))
    got = _day0(ev, ["DEXCHUS", "SPY"])
    assert got[("sun", "SPY")] == "2025-10-13"
    assert got[("sun", "DEXCHUS")] == "2025-10-14"  # Columbus Day: no H.10 noon rate
    assert got[("gf", "DEXCHUS")] == "2025-04-18"   # Good Friday: NYSE shut, the Fed publishes
    assert got[("gf", "SPY")] == "2025-04-21"
    assert (got[("am", "DEXCHUS")], got[("pm", "DEXCHUS")]) == ("2025-06-10", "2025-06-11")


def test_every_catalog_event_aligns_for_every_bundled_asset_by_the_close_after_rule(catalog):
    out = align_catalog(catalog)
    symbols = list(registry().index)
    assert len(out) == len(catalog) * len(symbols) == 80 * 32
    assert (out["day0"].notna() | (out["reason"] != "")).all()
    assert out["day0"].notna().all()              # the bundled catalog ends 2026-02-20: all inside
    assert (out["rule"] != "").all()
    assert out["rule"].str.split(";").str[0].isin(
        ["exact_time", "unknown_time"] + [f"timing_class:{c}" for c in
                                          ("pre_open", "intraday", "after_close", "weekend", "holiday")]).all()
    # Day 0's price is struck strictly after the (earliest possible) instant, and the
    # session before it was struck at or before it.
    assert (out["close_utc"] > out["instant_lo"]).all()
    for symbol, block in out.groupby("asset"):
        closes = session_closes(get_asset(symbol))
        pos = closes.index.get_indexer(pd.DatetimeIndex(block["day0"]))
        assert (pos > 0).all()
        prev = closes.iloc[pos - 1].to_numpy()
        assert (prev <= block["instant_lo"].to_numpy()).all(), symbol
    # Exact times are never uncertain; uncertain pairs record the policy in the rule.
    exact = out["rule"] == "exact_time"
    assert not out.loc[exact, "flags"].str.contains("uncertain").any()
    unsure = out["flags"].str.contains("uncertain")
    assert out.loc[unsure, "rule"].str.endswith(";policy:earliest").all()
    # 626: USCN-2018-23 (2018-12-05, the day of mourning) is no longer uncertain for DEXCHUS, whose
    # calendar has no session that day (impact.events.calendars.UNSCHEDULED_CLOSURES).
    # 511 since issue 14: the issuers' working hours (impact.events.align.WORKING_HOURS) settle
    # 115 pairs whose whole-day interval spanned a close.
    assert unsure.sum() == 511 and exact.sum() == 384


def test_unknown_time_policy_is_configurable(catalog):
    early = align_catalog(catalog, ["SPY", "ZS_F", "000001_SS"], policy="earliest").set_index(["event_id", "asset"])
    late = align_catalog(catalog, ["SPY", "ZS_F", "000001_SS"], policy="latest").set_index(["event_id", "asset"])
    differ = early["day0"] != late["day0"]
    assert differ.any()
    assert (late["day0"] >= early["day0"]).all()
    unsure = early["flags"].str.contains("uncertain")
    assert not (differ & ~unsure).any()           # only uncertain pairs can move
    assert late.loc[unsure, "rule"].str.endswith(";policy:latest").all()
    # An unknown-time US event on a trading day: earliest = that day, latest = the next session.
    ev = _events(("unk", "2025-10-10", "", "America/New_York", "unknown"))
    assert _day0(ev, ["SPY"], "latest")[("unk", "SPY")] == "2025-10-13"
    with pytest.raises(ImpactError, match="unknown alignment policy 'middle'"):
        align_events(ev, ["SPY"], "middle")


def test_unknown_symbol_is_flagged_and_announcements_past_the_calendar_carry_a_reason():
    ev = _events(("far", "2099-01-05", "10:00", "America/New_York", ""))
    out = align_events(ev, ["NOT_A_SYMBOL"])
    assert out.loc[0, "flags"] == "calendar_assumed:XNYS;after_calendar"
    assert pd.isna(out.loc[0, "day0"])
    assert out.loc[0, "reason"].startswith("announcement after the last session of calendar XNYS")
    assert pd.isna(out.loc[0, "close_utc"])
    old = align_events(_events(("old", "1999-06-01", "10:00", "America/New_York", "")), ["SPY", "ZS_F"])
    assert old["day0"].isna().all() and (old["flags"] == "before_calendar").all()
    assert old.loc[0, "reason"] == "announcement before the first session of calendar XNYS (2000-01-03)"


def test_study_reports_the_alignment_reason_for_pairs_without_day0(prices):
    from impact import EventStudy

    events = pd.DataFrame({"event_id": ["old", "ok"], "date": ["1999-06-01", "2025-04-02"],
                           "time_local": ["10:00", "16:15"], "timezone": "America/New_York"})
    result = EventStudy(prices, events, market="GSPC", assets=["SPY"]).fit()
    assert result.excluded[["event_id", "reason"]].values.tolist() == [
        ["old", "announcement before the first session of calendar XNYS (2000-01-03)"]]
    assert result.alignment.set_index("event_id").loc["ok", "day0"] == pd.Timestamp("2025-04-03")
