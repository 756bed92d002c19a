"""When a trader could first act on an announcement, per asset.

Every price row of an asset is stamped with the UTC instant it was struck: the
close (or settlement, or fixing) from :func:`impact.calendars.session_closes`, and
for opens the exchange calendar's session open, taken no later than the close.
A recorded open must never be assumed to come *later* than it really did (that
would let a trade buy a price struck before the news), so opens are stamped
:data:`OPEN_AUCTION_MARGIN` before the calendar's open: opening prices can come
from a pre-open auction (HKEX matches at 09:20 for a 09:30 open, Shanghai at 09:25).

The announcement instant is the latest moment the catalog allows
(``instant_hi``): with an unknown time of day the trader only knows the news for
certain at the end of the interval, so entry never relies on the optimistic
"earliest" reading the event study may use.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..data.prices import price_series
from ..errors import DataError
from ..events.assets import get_asset
from ..events.calendars import get_calendar, session_closes

#: Opening auctions end at most this long before the calendar's session open.
OPEN_AUCTION_MARGIN = pd.Timedelta(minutes=30)


def asset_prices(prices: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """One asset's tradable rows: ``date, close, open, close_utc, open_utc``.

    ``close`` is the adjusted close when present (total return for ETFs);
    ``open`` is scaled by the same adjustment factor so open and close are on one
    basis, NaN when the data has no opens. Rows on dates that are not sessions of
    the asset's calendar cannot be timed and are dropped; their dates are listed in
    ``frame.attrs["untimed"]``.
    """
    if not {"date", "symbol", "close"}.issubset(prices.columns):
        raise DataError("backtest prices must be tidy: columns date, symbol, close[, adj_close, open]")
    rows = prices[prices["symbol"] == symbol]
    if rows.empty:
        raise DataError(f"{symbol}: no prices for this asset in the price data")
    close = price_series(rows)[symbol]
    frame = pd.DataFrame({"close": close})
    if "open" in rows.columns:
        raw = rows.assign(date=pd.to_datetime(rows["date"]).dt.tz_localize(None).dt.normalize()).set_index("date")
        factor = (raw["adj_close"].fillna(raw["close"]) / raw["close"]) if "adj_close" in raw.columns else 1.0
        frame["open"] = pd.to_numeric(raw["open"] * factor, errors="coerce").reindex(frame.index)
        frame.loc[~(frame["open"] > 0), "open"] = np.nan
    else:
        frame["open"] = np.nan
    asset = get_asset(symbol)
    closes = session_closes(asset)
    frame["close_utc"] = closes.reindex(frame.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        opens = get_calendar(asset.calendar).opens.dt.tz_convert("UTC")
    opens.index = pd.DatetimeIndex(opens.index.tz_localize(None) if opens.index.tz else opens.index)
    frame["open_utc"] = opens.reindex(frame.index) - OPEN_AUCTION_MARGIN
    frame["open_utc"] = frame[["open_utc", "close_utc"]].min(axis=1)
    untimed = frame.index[frame["close_utc"].isna()]
    frame = frame[frame["close_utc"].notna()]
    frame.index.name = "date"
    out = frame.reset_index()
    # Recorded, not silent: the run reports these rows (BacktestResult.notes).
    out.attrs["untimed"] = [f"{d:%Y-%m-%d}" for d in untimed]
    return out


def ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC instants as int64 nanoseconds (for searchsorted)."""
    return pd.DatetimeIndex(values).tz_convert("UTC").as_unit("ns").asi8


def first_after(instants_ns: np.ndarray, announced_ns: np.ndarray) -> np.ndarray:
    """Index of the first row struck strictly after each announcement (len = none)."""
    return np.searchsorted(instants_ns, announced_ns, side="right")
