"""Prices in, returns out: the one shape every later stage consumes.

Accepted price layouts:

* tidy: columns ``date``, ``symbol`` and ``close`` (``adj_close`` preferred when present);
* wide: a DatetimeIndex (or a ``date`` column) and one column of closes per symbol.

Each symbol keeps its own session dates: returns are measured between
consecutive observed sessions of that symbol, never across a filled gap; a return
that spans more than one session of the symbol's calendar is flagged
(:func:`gap_returns`).

Every source (files, frames, yfinance, the cache) goes through the same checks:
:func:`session_dates` for dates and :func:`price_values` for prices, so a bad value
is refused with the same one-line message (origin, row, problem, fix) wherever it
comes from.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..events.assets import get_asset
from ..events.calendars import get_calendar, sessions

RETURN_KINDS = ("log", "simple")

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


def period_returns(close: pd.Series, kind: str = "log") -> pd.Series:
    """Returns between consecutive observations; the first is NaN."""
    if kind == "log":
        return np.log(close).diff()
    if kind == "simple":
        return close.pct_change()
    raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")


def benchmark_returns(benchmark: pd.Series, dates: pd.DatetimeIndex, kind: str = "log") -> pd.Series:
    """Benchmark returns over an asset's own return intervals.

    Uses the benchmark's last close on or before each of the asset's session dates,
    so a return spanning an asset holiday is matched by the benchmark's return over
    the same span (0 if the benchmark did not trade, NaN before its first close).
    """
    asof = benchmark.reindex(benchmark.index.union(dates)).ffill().reindex(dates)
    return period_returns(asof, kind)


#: Columns of :func:`gap_returns` (the shape of ``EventStudy(estimation_exclusions=...)``).
GAP_COLUMNS = ("asset", "date", "reason")


def gap_rows(closes: dict[str, pd.Series]) -> pd.DataFrame:
    """:func:`gap_returns` for closes already split by :func:`price_series`."""
    rows = []
    for symbol, close in closes.items():
        dates = pd.DatetimeIndex(close.dropna().index)
        if len(dates) < 2:
            continue
        cal = sessions(get_asset(symbol))
        # sessions in (previous observation, this one]: 1 for consecutive sessions
        spanned = np.diff(cal.searchsorted(dates, side="right"))
        for day, n in zip(dates[1:], spanned):
            if n > 1 and day <= cal[-1]:  # beyond the calendar's horizon nothing can be said
                rows.append((symbol, day, f"gap:{int(n)} sessions"))
    out = pd.DataFrame(rows, columns=list(GAP_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out


def gap_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Returns that span a gap: ``asset, date, reason`` with ``reason = "gap:<n> sessions"``.

    Rule: a return is measured between consecutive observed closes of an asset; when
    the asset's trading calendar (:func:`impact.calendars.sessions`, XNYS for unknown
    symbols) has ``n > 1`` sessions in ``(previous close date, date]``, the return
    dated ``date`` spans ``n`` sessions (missing data, a suspension) and is not a
    one-session return. It is flagged, never filled: a months-long hole would
    otherwise enter estimation as one huge "daily" return. The rows have the shape
    of ``EventStudy``'s ``estimation_exclusions`` so they can be left out of
    estimation as they are.
    """
    return gap_rows(price_series(prices))


@dataclass
class ReturnPanel:
    """Per-asset returns on the asset's own time axis (rows), with benchmark returns."""

    returns: dict[str, pd.Series]

    @classmethod
    def from_prices(cls, prices: pd.DataFrame, kind: str = "log", price_column: str | None = None) -> ReturnPanel:
        if kind not in RETURN_KINDS:
            raise DataError(f"unknown return kind {kind!r} (choose 'log' or 'simple')")
        closes = price_series(prices, price_column)
        panel = cls({s: period_returns(c, kind) for s, c in closes.items()})
        panel.closes = closes
        panel.kind = kind
        return panel

    @classmethod
    def from_returns(cls, returns: pd.DataFrame) -> ReturnPanel:
        """A wide frame of returns (rows = the time axis, NaN = missing)."""
        frame = returns
        if "date" in frame.columns:
            frame = frame.set_index("date")
        index = pd.DatetimeIndex(session_dates(pd.Series(frame.index, dtype=frame.index.dtype), None, "returns"))
        frame = frame.set_axis(index, axis=0)
        if index.has_duplicates:
            raise DataError(f"returns: duplicated date {index[index.duplicated()][0]:%Y-%m-%d}")
        # Same rule as prices: text and inf are refused, not dropped (returns may be <= 0).
        panel = cls({str(c): price_values(frame[c], str(c), pd.Series(str(c), index=frame.index),
                                          pd.Series(index, index=frame.index), "returns", positive=False).rename(str(c))
                     for c in frame.columns})
        panel.closes = None
        panel.kind = "given"
        return panel

    @property
    def symbols(self) -> list[str]:
        return list(self.returns)

    def gaps(self) -> pd.DataFrame:
        """Returns spanning more than one calendar session (:func:`gap_returns`); none for given returns."""
        return gap_rows(self.closes) if self.closes is not None else pd.DataFrame(columns=list(GAP_COLUMNS))

    def spans_gap(self, asset: str) -> pd.Series:
        """Per-return flag on ``asset``'s rows: True where the return spans more than one session."""
        self.require([asset])
        flagged = self.gaps()
        days = set(flagged.loc[flagged["asset"] == asset, "date"])
        index = self.returns[asset].index
        return pd.Series(index.isin(list(days)), index=index, name="spans_gap")

    def require(self, symbols: Iterable[str], role: str = "asset") -> None:
        missing = [s for s in dict.fromkeys(symbols) if s not in self.returns]
        if missing:
            raise DataError(
                f"unknown {role} symbol(s) {', '.join(missing)}: not in the price data "
                f"(available: {', '.join(sorted(self.returns))})"
            )

    def benchmark_on(self, benchmark: str, asset: str) -> pd.Series:
        """Benchmark returns on the asset's rows."""
        dates = self.returns[asset].index
        if self.closes is None:
            return self.returns[benchmark].reindex(dates)
        return benchmark_returns(self.closes[benchmark], dates, self.kind)


# -- the validated tidy shape every source returns ------------------------------------------

#: Columns of a validated price frame, in order (``open`` .. ``volume`` are NaN where unknown).
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
    lookup = {}
    for field_name, names in _ALIASES.items():
        for name in names:
            lookup.setdefault(name, field_name)
    mapping, taken = {}, set()
    for raw in columns:
        key = str(raw).strip().lower().replace("-", "_")
        field_name = lookup.get(key) or lookup.get(key.replace("_", " "))
        if field_name and field_name not in taken:
            mapping[raw] = field_name
            taken.add(field_name)
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


def load_price_file(path, symbol: str | None = None, symbols: Iterable[str] | None = None,
                    dayfirst: bool = False) -> pd.DataFrame:
    """Read a user's price file (CSV or parquet) into the validated tidy shape.

    A file without a ``symbol`` column holds one series: its symbol is ``symbol``
    or the file name's stem. Header spellings of yfinance, Bloomberg (``PX_LAST``)
    and Refinitiv (``TRDPRC_1``) exports are recognised. Every error is one line
    naming the file, the row (1-based data row; the header is line 1) and the problem.
    ``symbols`` keeps only those symbols and names any the file lacks; ``dayfirst``
    reads ambiguous dates such as 02/01/2025 as 2 January.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such price file")
    if path.stat().st_size < 4096 and not path.read_bytes().strip():  # sniffing would fail obscurely
        raise DataError(f"{path}: empty file; a price file needs a header row (date, close) and data rows")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            if raw.index.name and raw.index.name not in raw.columns:
                raw = raw.reset_index()
        else:
            raw = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                              skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file; a price file needs a header row (date, close) and data rows") from None
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read as {'parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'} "
                        f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    header_lines = 1
    first = str(raw.columns[0]).strip().lower()
    if first == "price" and len(raw) >= 2 and str(raw.iloc[0, 0]).strip().lower() == "ticker" \
            and str(raw.iloc[1, 0]).strip().lower() in ("date", "datetime"):
        # yfinance's DataFrame.to_csv of a (Price, Ticker) download: three header lines
        tickers = {str(t) for t in raw.iloc[0, 1:] if str(t)}
        raw = raw.iloc[2:].rename(columns={raw.columns[0]: "date"}).reset_index(drop=True)
        header_lines = 3
        if len(tickers) == 1 and symbol is None:
            symbol = tickers.pop().replace("=F", "_F").lstrip("^")
        elif len(tickers) > 1:
            raise DataError(f"{path}: a yfinance CSV with {len(tickers)} tickers; save one ticker per file")
    if raw.empty:
        raise DataError(f"{path}: no data rows")
    mapping = _canonical_columns(raw.columns)
    if "symbol" not in mapping.values():
        raw = raw.assign(symbol=symbol or path.stem)
    elif symbol is not None:
        raise DataError(f"{path}: the file has a symbol column; pass symbols=[...] to select, not symbol=")
    prices = validate_prices(raw, origin=str(path), header_lines=header_lines, dayfirst=dayfirst)
    if symbols is not None:
        wanted = list(dict.fromkeys([symbols] if isinstance(symbols, str) else symbols))
        have = set(prices["symbol"])
        missing = [s for s in wanted if s not in have]
        if missing:
            raise DataError(f"{path}: unknown symbol(s) {', '.join(missing)} (the file has: {', '.join(sorted(have))})")
        prices = prices[prices["symbol"].isin(wanted)].reset_index(drop=True)
    return prices


def load_prices(symbols: Iterable[str] | str | None = None, source="bundled", start=None, end=None, *,
                offline: bool = False, refresh: bool = False, cache_dir=None) -> pd.DataFrame:
    """Tidy, validated daily prices from any source, with asset metadata.

    ``source``: ``"bundled"`` (default, the offline real sample), ``"yahoo"`` (yfinance
    through the local cache, see :class:`impact.cache.PriceCache`; ``offline=True``
    reads the cache only), a CSV/parquet path, a DataFrame, or a source object.
    Unknown symbols and failed downloads raise :class:`DataError` naming them.
    """
    from .sources import get_source

    if isinstance(symbols, str):
        symbols = [symbols]
    src = get_source(source)
    if src.name == "bundled" and symbols is None:
        from . import datasets

        symbols = datasets.available_symbols()
    if symbols is None:
        if not hasattr(src, "frame"):
            raise DataError(f"give the symbols to load from {src.name}")
        symbols = sorted(set(src.frame["symbol"]))
    symbols = list(dict.fromkeys(symbols))
    if src.name == "yahoo":
        from .cache import PriceCache

        report = PriceCache(cache_dir).fetch(symbols, start, end, src, offline=offline, refresh=refresh)
        report.raise_for_failures()
        prices = report.prices
    else:
        got = src.fetch(symbols, start, end)
        if got.failed:
            raise DataError(f"unknown symbol(s) {', '.join(got.failed)} in {src.name}: "
                            f"{next(iter(got.failed.values()))}")
        prices = got.prices
    prices = prices[list(TIDY_COLUMNS)].sort_values(["symbol", "date"], ignore_index=True)
    prices["date"] = prices["date"].astype("datetime64[ns]")  # one resolution and dtype whatever the source
    prices["symbol"] = prices["symbol"].astype(str)
    return with_asset_metadata(prices)
