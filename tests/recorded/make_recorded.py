"""Rebuild the recorded yfinance responses in this folder (run from the repository root).

Each ``history_<TICKER>.json`` is what ``yfinance.Ticker(t).history(start, end,
interval="1d", auto_adjust=False)`` returns in yfinance 1.7.0 (read from its source,
``scrapers/history.py``): columns Open, High, Low, Close, Adj Close, Volume; index
``Date`` = local midnight of each session in the exchange's time zone. The *values*
are the real bundled prices (``impact/sample_data/prices.parquet``, provenance in
SOURCES.md) for 2025-04-25..2025-05-23, not a network capture.
``history_SPY_gaps.json`` is SPY with the sessions 2025-05-07 and 2025-05-08 removed,
the shape of a Yahoo response with missing sessions (labelled: derived, not as served).
"""
import json
from pathlib import Path

from impact.data.datasets import load_prices

HERE = Path(__file__).resolve().parent
RECORD = [("ZS=F", "ZS_F", "America/Chicago"), ("ZW=F", "ZW_F", "America/Chicago"),
          ("ZC=F", "ZC_F", "America/Chicago"), ("WEAT", "WEAT", "America/New_York"),
          ("000001.SS", "000001_SS", "Asia/Shanghai"), ("SPY", "SPY", "America/New_York")]

for ticker, symbol, tz in RECORD:
    p = load_prices([symbol]).set_index("date").loc["2025-04-25":"2025-05-23"]
    name = ticker
    note = "values: real bundled prices; layout: yfinance 1.7.0 Ticker.history(auto_adjust=False)"
    if symbol == "SPY":
        p = p.drop(index=["2025-05-07", "2025-05-08"])
        name, note = "SPY_gaps", note + "; sessions 2025-05-07 and 2025-05-08 removed (derived: a response with gaps)"
    cols = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Adj Close": "adj_close", "Volume": "volume"}
    data = [[None if v != v else float(v) for v in row] for row in p[list(cols.values())].itertuples(index=False)]
    out = {"note": note, "ticker": ticker, "timezone": tz, "columns": list(cols), "index": [f"{d:%Y-%m-%d}" for d in p.index],
           "data": data}
    (HERE / f"history_{name}.json").write_text(json.dumps(out, indent=0) + "\n")
