"""Trading volume as the series of a volume event study: log(1 + V) per asset and date
(Campbell & Wasley 1996 use the log of turnover plus a small constant; shares outstanding
are not in the data, so volume stands in for turnover and the constant is 1 share or
contract). Assets without usable volume are returned with the reason.

Continuous futures (Yahoo's ``ZS=F``...) carry the volume of the contract Yahoo follows,
which on about a fifth of the grain days is the expiring contract's last trickle (4 or 33
contracts against ~100,000): a print below ``STALE_SHARE`` of the centred 21-session
median is not the market's volume and is left out (a missing day), which cuts the
estimation s.d. of soybeans' log volume in 2024 from 2.7 to 0.9."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

#: A print below this share of the centred 21-session median volume is a stale print.
STALE_SHARE = 0.10


def log_volume(prices: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Wide ``log(1 + volume)`` (dates x symbols, NaN where a session has no volume) from
    tidy prices, and ``{symbol: reason}`` for the symbols left out: no volume column, no
    positive volume (indices and FX series that carry zeros), or too few days with it."""
    if not isinstance(prices, pd.DataFrame) or not {"date", "symbol"} <= set(prices.columns):
        raise DataError("abnormal volume needs tidy prices (date, symbol, volume); the study was built from "
                        "returns or wide closes")
    if "volume" not in prices.columns:
        return pd.DataFrame(), {s: "no volume column in the prices" for s in prices["symbol"].unique()}
    frame = prices[["date", "symbol", "volume"]].copy()
    frame["volume"] = pd.to_numeric(frame["volume"], errors="coerce")
    reasons: dict[str, str] = {}
    for symbol, v in frame.groupby("symbol")["volume"]:
        positive = (v > 0).mean()
        if not (v > 0).any():
            reasons[str(symbol)] = "no volume in the data (zero or missing on every day)"
        elif positive < 0.9:
            reasons[str(symbol)] = f"volume missing or zero on {1 - positive:.0%} of days"
    # a zero on a day the asset traded is a missing print, not "no trades": left out
    frame = frame[~frame["symbol"].isin(list(reasons)) & (frame["volume"] > 0)].sort_values(["symbol", "date"])
    median = frame.groupby("symbol")["volume"].transform(lambda v: v.rolling(21, center=True, min_periods=5).median())
    frame = frame[~(frame["volume"] < STALE_SHARE * median)]
    wide = frame.assign(lv=np.log1p(frame["volume"])).pivot(index="date", columns="symbol", values="lv")
    wide.columns.name = None
    return wide.sort_index(), reasons
