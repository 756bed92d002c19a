"""Real, widely reported moves come out of the pipeline unchanged."""
from __future__ import annotations

import pandas as pd
import pytest

from impact import EventStudy


def _raw_day0(prices, catalog, event_id, asset):
    study = EventStudy(prices, catalog.filter(ids=[event_id]), market=None, model="raw",
                       returns="simple", assets=[asset])
    ar = study.fit().ar
    return ar[ar["rel_day"] == 0].iloc[0]


@pytest.mark.parametrize(
    "event_id, asset, date, expected",
    [
        ("USCN-2025-22", "GSPC", "2025-10-10", -0.0271),  # 100% tariff threat: worst day in six months
        ("USCN-2025-11", "GSPC", "2025-04-09", 0.0952),   # 90-day pause
        ("USCN-2018-07", "ZS_F", "2018-04-04", -0.0219),  # China's soybean retaliation list
    ],
)
def test_known_day0_moves(prices, catalog, event_id, asset, date, expected):
    row = _raw_day0(prices, catalog, event_id, asset)
    assert row["date"] == pd.Timestamp(date)
    assert row["ret"] == pytest.approx(expected, abs=5e-4)
    assert row["ar"] == row["ret"]  # raw model: the abnormal return is the return


def test_user_dates_frame_matches_catalog_alignment(prices):
    """A plain (event_id, asset, date) frame runs a classic event study on the user's dates."""
    events = pd.DataFrame({"event_id": ["a", "b"], "asset": ["SPY", "SPY"], "date": ["2025-10-10", "2025-10-11"]})
    result = EventStudy(prices, events, market="GSPC").fit()
    dates = result.ar[result.ar["rel_day"] == 0].set_index("event_id")["date"]
    assert dates["a"] == pd.Timestamp("2025-10-10")
    assert dates["b"] == pd.Timestamp("2025-10-13")  # Saturday -> next session
    assert "day0_moved" in result.alignment.set_index("event_id").loc["b", "flags"]
