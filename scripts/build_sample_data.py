"""Rebuild the bundled sample data from ``../shared/data`` (run from the repo root).

The price files are real market data collected with their provenance in
``shared/data/SOURCES.md``; this script only stacks them into one tidy parquet
file and copies the Fama-French factors. Nothing is filled, rounded or rescaled.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "impact" / "data" / "sample_data"


def main() -> None:
    frames = []
    for path in sorted((SHARED / "prices").glob("*.csv")):
        frame = pd.read_csv(path, parse_dates=["date"])
        frame.insert(1, "symbol", path.stem)
        frames.append(frame)
    prices = pd.concat(frames, ignore_index=True)
    prices["symbol"] = prices["symbol"].astype("string")
    prices.to_parquet(OUT / "prices.parquet", compression="zstd", index=False)

    factors = pd.read_csv(SHARED / "factors" / "FF3_daily.csv", parse_dates=["date"])
    factors.to_parquet(OUT / "ff3_daily.parquet", compression="zstd", index=False)
    header = (
        "<!-- Bundled with impact: a verbatim copy of shared/data/SOURCES.md. The package ships\n"
        "every price file listed below in impact/data/sample_data/prices.parquet (one row per file row, plus\n"
        "a symbol column = file stem) and factors/FF3_daily.csv as impact/data/sample_data/ff3_daily.parquet. -->\n\n"
    )
    (OUT / "SOURCES.md").write_text(header + (SHARED / "SOURCES.md").read_text(encoding="utf-8"), encoding="utf-8")
    print(f"{len(prices)} price rows, {prices['symbol'].nunique()} symbols; {len(factors)} factor rows")


if __name__ == "__main__":
    main()
