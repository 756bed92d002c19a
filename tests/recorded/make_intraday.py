"""Rebuild ``intraday_SPY_5m.json``: the *shape* of ``yfinance.download("SPY",
interval="5m", prepost=True, auto_adjust=False)`` in yfinance 1.7.0 (index ``Datetime``,
bar starts in America/New_York; fields Adj Close, Close, High, Low, Open, Volume) with
SYNTHETIC values (a seeded random walk): no real intraday data is recorded here.

Two sessions, 2025-10-09 and 2025-10-10, 04:00-19:55 ET (pre-market, regular, post-market
bars), and a 0.5% drop in the 10:55 bar of 2025-10-10 so tests can find it.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(20251010)
index = []
for day in ("2025-10-09", "2025-10-10"):
    index += list(pd.date_range(f"{day} 04:00", f"{day} 19:55", freq="5min"))
steps = rng.normal(0, 0.0008, len(index))
steps[index.index(pd.Timestamp("2025-10-10 10:55"))] = -0.005
close = 670.0 * np.exp(np.cumsum(steps))
opened = np.r_[670.0, close[:-1]]
high = np.maximum(opened, close) * (1 + rng.uniform(0, 0.0005, len(index)))
low = np.minimum(opened, close) * (1 - rng.uniform(0, 0.0005, len(index)))
volume = rng.integers(1_000, 100_000, len(index)).astype(float)
record = {
    "note": "SYNTHETIC values in the layout of yfinance 1.7.0 download(interval='5m', prepost=True, "
            "auto_adjust=False); not market data",
    "ticker": "SPY", "interval": "5m", "timezone": "America/New_York",
    "index": [f"{t:%Y-%m-%dT%H:%M:%S}" for t in index],
    "columns": ["Adj Close", "Close", "High", "Low", "Open", "Volume"],
    "data": [[round(c, 4), round(c, 4), round(h, 4), round(lo, 4), round(o, 4), v]
             for c, h, lo, o, v in zip(close, high, low, opened, volume)],
}
(HERE / "intraday_SPY_5m.json").write_text(json.dumps(record, indent=0) + "\n")
