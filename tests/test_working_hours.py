"""Issue 14.2: an announcement with a date but no time lies in its issuer's working day, not
anywhere in the calendar day (MOFCOM does not publish at 02:00 Beijing)."""
from __future__ import annotations

import pandas as pd
import pytest

import impact.events.align as align
from impact import load_catalog
from impact.errors import CatalogError
from impact.events.align import align_catalog, align_events
from impact.events.catalog import catalog_from_frame


def test_mofcom_unknown_hour_is_no_longer_priced_by_the_previous_new_york_session():
    """USCN-2019-06 (MOFCOM, 2019-05-31 Beijing, hour unknown): NYSE's 30 May session closed at
    04:00 Beijing on the 31st, before the ministry's day; day 0 is 31 May."""
    cat = load_catalog()
    out = align_catalog(cat.events[cat.events["event_id"] == "USCN-2019-06"], ["GSPC", "000001_SS"]).set_index("asset")
    assert out.at["GSPC", "day0"] == pd.Timestamp("2019-05-31") and "uncertain" not in out.at["GSPC", "flags"]
    assert out.at["GSPC", "rule"] == "unknown_time;hours:08:00-22:00(China)"
    # 08:00-22:00 Beijing spans Shanghai's 15:00 close: still ambiguous there, and said so
    assert "uncertain" in out.at["000001_SS", "flags"] and out.at["000001_SS", "day0"] == pd.Timestamp("2019-05-31")
    lo, hi = out.at["GSPC", "instant_lo"], out.at["GSPC", "instant_hi"]
    assert (lo, hi + pd.Timedelta(nanoseconds=1)) == (pd.Timestamp("2019-05-31 00:00", tz="UTC"),
                                                      pd.Timestamp("2019-05-31 14:00", tz="UTC"))


def _frame(**row):
    base = {"event_id": "X-1", "date": "2019-05-31", "time_local": "", "timezone": "Asia/Shanghai", "actor": "China",
            "kind": "other", "direction": "escalation", "title": "t", "source": "s", "confidence": "high"}
    return pd.DataFrame([base | row])


def test_hours_per_event_override_the_actor_default():
    late = catalog_from_frame(_frame(hours="21:00-23:00"), "<test>").events
    out = align_events(late, ["000001_SS", "HSI", "GSPC"]).set_index("asset")
    assert out.at["GSPC", "rule"] == "unknown_time;hours:21:00-23:00(event)"
    assert out.at["000001_SS", "day0"] == pd.Timestamp("2019-06-03")      # after Friday's 15:00 close
    assert out["flags"].eq("").all()                                       # no session close inside 21-23h
    early = catalog_from_frame(_frame(hours="09:00-11:00"), "<test>").events
    assert align_events(early, ["000001_SS"])["day0"].iloc[0] == pd.Timestamp("2019-05-31")


@pytest.mark.parametrize("bad", ["18:00-09:00", "9-18", "09:00-25:00", "09:00"])
def test_bad_hours_are_a_one_line_catalog_error(bad):
    with pytest.raises(CatalogError, match=rf"field 'hours': '{bad}' is not a working-hours range HH:MM-HH:MM"):
        catalog_from_frame(_frame(hours=bad), "<test>")


def test_a_documented_exception_keeps_its_timing_class():
    """USCN-2018-13: Xinhua dated the item ~03:00 Beijing (Friday afternoon in New York); the
    catalog's intraday class wins over the default hours, and the rule says so."""
    cat = load_catalog()
    out = align_catalog(cat.events[cat.events["event_id"] == "USCN-2018-13"], ["SPY"])
    assert out["day0"].iloc[0] == pd.Timestamp("2018-06-15")
    assert out["rule"].iloc[0] == "timing_class:intraday;hours:08:00-22:00(China; outside the timing class, not applied)"


def test_every_day0_the_rule_moves_is_noted_in_the_catalog(monkeypatch):
    cat = load_catalog()
    new = align_catalog(cat)
    monkeypatch.setattr(align, "WORKING_HOURS", {})
    old = align_catalog(cat)
    both = new.merge(old, on=["event_id", "asset"], suffixes=("", "_old"))
    moved = set(both.loc[(both["day0"] != both["day0_old"]) & both["day0"].notna(), "event_id"])
    noted = set(cat.events.loc[cat.events["notes"].str.contains("issuer's working hours"), "event_id"])
    assert moved == noted and len(moved) == 23
    assert (both.loc[both["day0"] != both["day0_old"], "day0"] > both.loc[both["day0"] != both["day0_old"],
                                                                          "day0_old"]).all()  # only ever later
