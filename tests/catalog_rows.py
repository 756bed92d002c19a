"""Test helper: a validated catalog frame from (event_id, date, time_local, timezone, us_timing) rows."""
from __future__ import annotations

import pandas as pd

from impact.events.catalog import catalog_from_frame


def catalog_events(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["event_id", "date", "time_local", "timezone", "us_timing"])
    for column, value in (("actor", "US"), ("kind", "tariff"), ("direction", "escalation"),
                          ("title", "t"), ("source", "s"), ("confidence", "high")):
        frame[column] = value
    return catalog_from_frame(frame).events
