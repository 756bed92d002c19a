"""Announcement instants mapped onto real exchange calendars."""
from __future__ import annotations

import pandas as pd
from catalog_rows import catalog_events as _events

from impact.events.align import align_events


def _day0(events, assets):
    out = align_events(events, assets)
    return {(r.event_id, r.asset): r.day0.strftime("%Y-%m-%d") for r in out.itertuples()}


def test_sunday_announcement_maps_to_monday():
    got = _day0(_events(("sun", "2025-10-12", "", "America/New_York", "weekend")), ["SPY"])
    assert got[("sun", "SPY")] == "2025-10-13"


def test_beijing_morning_and_afternoon():
    ev = _events(("bj10", "2025-10-09", "10:00", "Asia/Shanghai", ""),   # Wed 22:00 ET
                 ("bj16", "2025-10-09", "16:00", "Asia/Shanghai", ""))   # after Shanghai's 15:00 close
    got = _day0(ev, ["SPY", "000001_SS"])
    assert got[("bj10", "SPY")] == "2025-10-09"
    assert got[("bj10", "000001_SS")] == "2025-10-09"
    assert got[("bj16", "SPY")] == "2025-10-09"
    assert got[("bj16", "000001_SS")] == "2025-10-10"


def test_close_is_strictly_before_news_at_the_close():
    got = _day0(_events(("ld", "2025-04-02", "16:00", "America/New_York", "")), ["SPY"])
    assert got[("ld", "SPY")] == "2025-04-03"


def test_nyse_closure_2018_12_05():
    got = _day0(_events(("bush", "2018-12-05", "09:00", "America/New_York", "")), ["SPY"])
    assert got[("bush", "SPY")] == "2018-12-06"


def test_afternoon_us_news_after_soybean_settlement():
    got = _day0(_events(("pm", "2025-04-08", "15:00", "America/New_York", "")), ["SPY", "ZS_F"])
    assert got[("pm", "SPY")] == "2025-04-08"
    assert got[("pm", "ZS_F")] == "2025-04-09"


def test_golden_week_shanghai():
    got = _day0(_events(("gw", "2025-10-02", "10:00", "Asia/Shanghai", "")), ["000001_SS", "SPY"])
    assert got[("gw", "000001_SS")] == "2025-10-09"
    assert got[("gw", "SPY")] == "2025-10-02"  # Beijing 10:00 = 22:00 ET on Oct 1, after the NYSE close


def test_unknown_time_uses_timing_class_and_records_rule():
    ev = _events(("ac", "2025-10-10", "", "America/New_York", "after_close"),
                 ("unk", "2025-10-10", "", "America/New_York", "unknown"))
    out = align_events(ev, ["SPY"]).set_index("event_id")
    assert out.loc["ac", "day0"] == pd.Timestamp("2025-10-13")
    assert out.loc["ac", "rule"] == "timing_class:after_close;hours:07:00-21:00(US)"  # actor US
    assert out.loc["ac", "flags"] == ""
    assert out.loc["unk", "day0"] == pd.Timestamp("2025-10-10")
    assert "uncertain" in out.loc["unk", "flags"]


def test_every_catalog_event_aligns_for_bundled_assets(catalog):
    from impact.data.datasets import DEFAULT_SYMBOLS

    out = align_events(catalog.events, DEFAULT_SYMBOLS)
    assert len(out) == len(catalog) * len(DEFAULT_SYMBOLS)
    assert out["day0"].notna().all()
    assert (out["day0"] >= out["instant_lo"].dt.tz_localize(None).dt.normalize() - pd.Timedelta(days=1)).all()
