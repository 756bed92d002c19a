"""Prices in one validated tidy shape: the checks every source goes through.

Accepted price layouts:

* tidy: columns ``date``, ``symbol`` and ``close`` (``adj_close`` preferred when present);
* wide: a DatetimeIndex (or a ``date`` column) and one column of closes per symbol.

Each symbol keeps its own session dates: returns are measured between
consecutive observed sessions of that symbol, never across a filled gap; a return
that spans more than one session of the symbol's calendar is flagged
(:func:`impact.data.returns.gap_returns`).

Every source (files, frames, yfinance, the cache) goes through the same checks:
:func:`session_dates` for dates and :func:`price_values` for prices, so a bad value
is refused with the same one-line message (origin, row, problem, fix) wherever it
comes from.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import DataError
from ..events.assets import get_asset
from ..events.calendars import get_calendar, sessions

# d/m/y or m/d/y (any of / . - between, 2- or 4-digit year): the order cannot be read off one date.
_SLASH_DATE = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:$|[ T])"
_MISSING_TEXT = ("", "nan", "null", "na", "n/a", "-", "#n/a", "none")


def _first(mask) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def _row_namer(header_lines: int | None = None):
    def row(i: int) -> str:
        line = f" (line {int(i) + 1 + header_lines})" if header_lines is not None else ""
        return f"row {int(i) + 1}{line}"
    return row


def exchange_zone(symbol: str) -> str:
    """IANA zone of ``symbol``'s exchange (its registry calendar; XNYS for unknown symbols)."""
    return get_calendar(get_asset(symbol).calendar).tz


def session_dates(values: pd.Series, symbols: pd.Series | str | None, origin: str = "prices",
                  dayfirst: bool = False, row=None) -> pd.Series:
    """Session dates (naive, midnight) from a column of dates or timestamps.

    The one date parser for prices from every source. Rules:

    * ``d/m/y`` versus ``m/d/y`` is never guessed row by row: a day > 12 in the
      position ``dayfirst`` says holds the month, dates out of order within a symbol,
      or a weekend date for a weekday calendar refuse the column with the fix named;
    * a tz-aware timestamp at midnight of its own zone is a date label (yfinance's
      local midnight, a vendor's ``...T00:00Z``): its date is kept. Any other tz-aware
      instant is converted to the exchange's zone (``symbols`` -> registry calendar)
      before its date is taken, so a UTC stamp of a Shanghai session keeps its day;
    * timestamps with several UTC offsets (a file spanning a DST change) are read as
      instants (utc=True), then converted the same way.
    """
    row = row or _row_namer()
    index = values.index
    values = values.reset_index(drop=True)
    sym = None if symbols is None else (pd.Series(symbols, index=values.index) if isinstance(symbols, str)
                                        else pd.Series(symbols).reset_index(drop=True).astype(str))
    slash = None
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
    else:
        text = values.astype("string").str.strip()
        parts = text.str.extract(_SLASH_DATE)
        slash = parts[0].notna()
        if slash.any():
            month = (parts[1] if dayfirst else parts[0]).astype(float)
            over = month > 12
            if over.any():  # the slot read as the month holds a day: the file has the other order
                i = _first(over.fillna(False))
                order, fix = ("day-first", "pass dayfirst=False") if dayfirst else ("month-first", "pass dayfirst=True")
                raise DataError(f"{origin}, {row(i)}: date {values.iloc[i]!r} cannot be read {order} "
                                f"({int(month.iloc[i])} is not a month); {fix} or write ISO dates (YYYY-MM-DD)")
        try:
            dates = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst)
        except ValueError:  # several UTC offsets (DST): read instants, the zone is applied below
            dates = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst, utc=True)
        bad = dates.isna()
        if bad.any():
            i = _first(bad)
            raise DataError(f"{origin}, {row(i)}: unparseable date {values.iloc[i]!r} in column 'date' "
                            "(write ISO dates, YYYY-MM-DD)")
    if getattr(dates.dt, "tz", None) is not None:
        local = dates.dt.tz_localize(None)
        label = local == local.dt.normalize()
        if not label.all():
            if sym is None:
                i = _first(~label)
                raise DataError(f"{origin}, {row(i)}: timestamp {values.iloc[i]!s} has a time zone but no symbol "
                                "tells the exchange's; give plain dates")
            converted = local.copy()
            for symbol in sym[~label].unique():
                at = (~label) & (sym == symbol)
                converted[at] = dates[at].dt.tz_convert(exchange_zone(symbol)).dt.tz_localize(None)
            local = local.where(label, converted)
        dates = local
    dates = dates.dt.normalize().astype("datetime64[ns]")
    if slash is not None and slash.any():
        _check_ambiguous_order(values, dates, sym, slash, origin, row, dayfirst)
    dates.index = index
    return dates


def _check_ambiguous_order(values, dates, sym, slash, origin, row, dayfirst) -> None:
    """Refuse d/m vs m/d dates whose reading is implausible: out of order, or on a weekend."""
    fix = "pass dayfirst=False" if dayfirst else "pass dayfirst=True if the file is day-first"
    order = "day-first" if dayfirst else "month-first"
    groups = [(None, np.arange(len(dates)))] if sym is None else list(sym.groupby(sym, sort=False).indices.items())
    for symbol, rows in groups:
        d = dates.iloc[rows].to_numpy()
        step = np.diff(d).astype("int64")
        if (step < 0).any() and (step > 0).any():  # neither ascending nor descending: a misread
            k = int(np.flatnonzero(step < 0 if (step > 0).sum() >= (step < 0).sum() else step > 0)[0]) + 1
            i = int(rows[k])
            raise DataError(f"{origin}, {row(i)}: date {values.iloc[i]!r} read {order} as "
                            f"{dates.iloc[i]:%Y-%m-%d} breaks the order of the dates before it; "
                            f"{fix} or write ISO dates (YYYY-MM-DD)")
        weekend = (dates.iloc[rows].dt.day_of_week >= 5).to_numpy() & slash.iloc[rows].to_numpy()
        if weekend.any():
            asset = get_asset(str(symbol)) if symbol is not None else get_asset("")
            cal = sessions(asset)
            on = dates.iloc[rows][weekend]
            off = on[~on.isin(cal)]
            if len(off):
                i = int(off.index[0])
                raise DataError(f"{origin}, {row(i)}: date {values.iloc[i]!r} read {order} is "
                                f"{dates.iloc[i]:%A %Y-%m-%d}, not a {asset.calendar} session; "
                                f"{fix} or write ISO dates (YYYY-MM-DD)")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_day(value, what: str = "date") -> pd.Timestamp:
    """A calendar day from a ``YYYY-MM-DD`` string, a date or a Timestamp (time of day dropped).

    Words such as ``yesterday`` and other spellings are refused: a range bound must
    mean the same day whenever and wherever it is read.
    """
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_DAY.fullmatch(text):
            raise DataError(f"{what} {value!r} is not a date; give it as YYYY-MM-DD")
        value = text
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"{what} {value!r} is not a date; give it as YYYY-MM-DD") from None
    if pd.isna(day):
        raise DataError(f"{what} is empty; give it as YYYY-MM-DD")
    return day.tz_localize(None).normalize() if day.tzinfo is not None else day.normalize()


def price_values(values: pd.Series, name: str, symbols: pd.Series, dates: pd.Series, origin: str = "prices",
                 row=None, positive: bool = True) -> pd.Series:
    """Floats from a price (or volume) column; NaN only where the cell is empty.

    Text that is not a number, infinite values and (``positive``) values <= 0 are
    refused naming the row, symbol and date: they would otherwise be dropped or turn
    into silently wrong returns.
    """
    row = row or _row_namer()
    index = values.index
    values = values.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
    else:
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        text = values.astype("string").str.strip()
        junk = numbers.isna() & text.notna() & ~text.str.lower().isin(_MISSING_TEXT)
        if junk.any():
            i = _first(junk)
            raise DataError(f"{origin}, {row(i)}: {name} {values.iloc[i]!r} is not a number; "
                            "fix the cell or leave it empty for a missing price")
    symbols = pd.Series(symbols).reset_index(drop=True)
    dates = pd.Series(dates).reset_index(drop=True)

    def where(i: int) -> str:
        return f"for {symbols.iloc[i]} on {dates.iloc[i]:%Y-%m-%d}"

    infinite = np.isinf(numbers)
    if infinite.any():
        i = _first(infinite)
        raise DataError(f"{origin}, {row(i)}: infinite {name} {numbers.iloc[i]:g} {where(i)}; "
                        "fix the cell or leave it empty for a missing price")
    if positive:
        nonpos = numbers <= 0
        if nonpos.any():
            i = _first(nonpos)
            raise DataError(f"{origin}, {row(i)}: non-positive {name} {numbers.iloc[i]:g} {where(i)}; "
                            "a price must be > 0: fix the cell or leave it empty for a missing price")
    numbers.index = index
    return numbers


def price_series(prices: pd.DataFrame, price_column: str | None = None) -> dict[str, pd.Series]:
    """Split a tidy or wide price frame into one clean Series of closes per symbol.

    Dates and values go through :func:`session_dates` and :func:`price_values` (the
    same checks as :func:`validate_prices`); duplicated dates are refused too. Empty
    cells are missing prices and are left out.
    """
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"prices must be a pandas DataFrame, got {type(prices).__name__}")
    if {"symbol", "date"}.issubset(prices.columns):
        column = price_column or ("adj_close" if "adj_close" in prices.columns else "close")
        if column not in prices.columns:
            raise DataError(f"tidy prices have no '{column}' column (columns: {', '.join(map(str, prices.columns))})")
        frame = prices.reset_index(drop=True)
        symbols = frame["symbol"].astype(str)
        dates = session_dates(frame["date"], symbols, "prices")
        values = price_values(frame[column], column, symbols, dates, "prices")
        if price_column is None and column == "adj_close" and "close" in frame.columns:
            values = values.fillna(price_values(frame["close"], "close", symbols, dates, "prices"))
        tidy = pd.DataFrame({"date": dates, "symbol": symbols, "value": values})
        series = {s: g.set_index("date")["value"] for s, g in tidy.groupby("symbol", sort=False)}
    else:
        frame = prices
        if "date" in frame.columns:
            frame = frame.set_index("date")
        series = {}
        for c in frame.columns:
            raw = pd.Series(frame.index, dtype=frame.index.dtype)
            dates = session_dates(raw, str(c), "prices")
            values = price_values(frame[c].reset_index(drop=True), str(c), pd.Series(str(c), index=raw.index),
                                  dates, "prices")
            series[str(c)] = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(dates))
    out = {}
    for symbol, s in series.items():
        s = s.dropna().rename(symbol)
        s.index.name = "date"
        dupes = s.index[s.index.duplicated()]
        if len(dupes):
            raise DataError(f"{symbol}: duplicated date {dupes[0]:%Y-%m-%d} in prices; keep one row per date")
        out[symbol] = s.sort_index()
    return out


TIDY_COLUMNS = ("date", "symbol", "open", "high", "low", "close", "adj_close", "volume")
PRICE_FIELDS = ("open", "high", "low", "close", "adj_close")

# Header spellings of common exports (yfinance, Bloomberg, Refinitiv, charting tools).
_ALIASES = {
    "date": ("date", "dates", "time", "timestamp", "datetime", "trade_date", "day"),
    "symbol": ("symbol", "ticker", "ric", "security", "asset"),
    "open": ("open", "px_open", "open_price"),
    "high": ("high", "px_high", "high_price"),
    "low": ("low", "px_low", "low_price"),
    "close": ("close", "px_last", "last", "price", "close_price", "trdprc_1", "settle", "settlement", "value"),
    "adj_close": ("adj_close", "adj close", "adjclose", "adjusted_close", "adjusted close"),
    "volume": ("volume", "vol", "px_volume", "acvol_uns"),
}


def _canonical_columns(columns: Iterable) -> dict:
    """Map raw header names to the canonical field names (first match wins)."""
    lookup: dict[str, str] = {}
    for field_name, names in _ALIASES.items():
        for name in names:
            lookup.setdefault(name, field_name)
    mapping, taken = {}, set()
    for raw in columns:
        key = str(raw).strip().lower().replace("-", "_")
        found = lookup.get(key) or lookup.get(key.replace("_", " "))
        if found and found not in taken:
            mapping[raw] = found
            taken.add(found)
    return mapping


def validate_prices(frame: pd.DataFrame, origin: str = "prices", header_lines: int | None = None,
                    with_metadata: bool = True, dayfirst: bool = False) -> pd.DataFrame:
    """Check a tidy price frame and return it in the canonical shape.

    ``origin`` (a file name, "yfinance", ...) and the 1-based ``row`` of the first
    offending record are named in every error, with the file ``line`` when
    ``header_lines`` (lines before the first data row) is given. Adds ``asset_class, exchange, currency`` from the asset
    registry when ``with_metadata``. Sorted by symbol, date.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{origin}: prices must be a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.rename(columns=_canonical_columns(frame.columns)).reset_index(drop=True)
    for needed in ("date", "symbol"):
        if needed not in frame.columns:
            raise DataError(f"{origin}: no '{needed}' column (columns: {', '.join(map(str, frame.columns))})")
    if "close" not in frame.columns and "adj_close" not in frame.columns:
        raise DataError(f"{origin}, header: no close column (expected one of close, Close, PX_LAST, Adj Close; "
                        f"columns: {', '.join(map(str, frame.columns))})")

    row = _row_namer(header_lines)
    symbols = frame["symbol"].astype("string").str.strip()
    missing_symbol = symbols.isna() | (symbols == "")
    if missing_symbol.any():
        raise DataError(f"{origin}, {row(_first(missing_symbol))}: empty symbol")
    symbols = symbols.astype(str)
    dates = session_dates(frame["date"], symbols, origin, dayfirst, row)
    out = pd.DataFrame({"date": dates, "symbol": symbols})
    for name in (*PRICE_FIELDS, "volume"):
        if name not in frame.columns:
            out[name] = np.nan
            continue
        out[name] = price_values(frame[name], name, symbols, dates, origin, row, positive=name != "volume")
    if out["close"].isna().all() and out["adj_close"].notna().any():
        out["close"] = out["adj_close"]
    dup = out.duplicated(["symbol", "date"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        same = (out["symbol"] == out["symbol"].iloc[i]) & (out["date"] == out["date"].iloc[i])
        first = int(np.flatnonzero(same.to_numpy())[0])
        raise DataError(f"{origin}, {row(i)}: duplicated date {out['date'].iloc[i]:%Y-%m-%d} for "
                        f"{out['symbol'].iloc[i]} (first seen at {row(first)})")
    out = out.dropna(subset=["close"]).sort_values(["symbol", "date"], ignore_index=True)
    out["symbol"] = out["symbol"].astype(str)
    if with_metadata:
        out = with_asset_metadata(out)
    return out


def with_asset_metadata(prices: pd.DataFrame) -> pd.DataFrame:
    """Add each symbol's ``asset_class, exchange`` (calendar) and ``currency``."""
    meta = {s: get_asset(s) for s in prices["symbol"].unique()}
    return prices.assign(
        asset_class=prices["symbol"].map({s: a.asset_class for s, a in meta.items()}),
        exchange=prices["symbol"].map({s: a.calendar for s, a in meta.items()}),
        currency=prices["symbol"].map({s: a.currency for s, a in meta.items()}),
    )
