"""Users' price files (CSV or parquet; yfinance, Bloomberg and Refinitiv headers) read into
the validated tidy shape of :mod:`impact.data.prices`."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .bars import validate_bars
from .prices import _canonical_columns, validate_prices


def _read_raw(path: Path, symbol: str | None, what: str) -> tuple[pd.DataFrame, int, str | None]:
    """The file's cells as text (CSV) or typed columns (parquet), the header line count
    and the symbol a one-ticker yfinance CSV names; one-line errors for unreadable files."""
    header = "time" if what == "bar" else "date"
    empty = f"{path}: empty file; a {what} file needs a header row ({header}, close) and data rows"
    if not path.is_file():
        raise DataError(f"{path}: no such {what} file")
    if path.stat().st_size < 4096 and not path.read_bytes().strip():  # sniffing would fail obscurely
        raise DataError(empty)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            if raw.index.name and raw.index.name not in raw.columns:
                raw = raw.reset_index()
        else:
            raw = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                              skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(empty) from None
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
    return raw, header_lines, symbol


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
    raw, header_lines, symbol = _read_raw(path, symbol, "price")
    mapping = _canonical_columns(raw.columns)
    if "symbol" not in mapping.values():
        raw = raw.assign(symbol=symbol or path.stem)
    elif symbol is not None:
        raise DataError(f"{path}: the file has a symbol column; pass symbols=[...] to select, not symbol=")
    prices = validate_prices(raw, origin=str(path), header_lines=header_lines, dayfirst=dayfirst)
    return _select(prices, symbols, path)


def load_bar_file(path, symbol: str | None = None, symbols: Iterable[str] | None = None, *,
                  tz: str | None = None, interval: str | None = None, dayfirst: bool | None = None) -> pd.DataFrame:
    """Read a user's intraday bar file (CSV or parquet) into the validated bar shape of
    :mod:`impact.data.bars`.

    Timestamps must carry their zone (``2025-10-10T10:57:00-04:00``, ``...Z``, epoch
    numbers) or ``tz`` must name the file's clock; ``interval`` (``"1m"``, ``"5m"``, ...)
    is checked against the bars' spacing; ``dayfirst`` reads slashed dates (False: month
    first, as US exports write them). One-series files take ``symbol`` or the file
    name's stem, as for daily prices.
    """
    path = Path(path)
    raw, header_lines, symbol = _read_raw(path, symbol, "bar")
    if "symbol" not in _canonical_columns(raw.columns).values():
        raw = raw.assign(symbol=symbol or path.stem)
    elif symbol is not None:
        raise DataError(f"{path}: the file has a symbol column; pass symbols=[...] to select, not symbol=")
    bars = validate_bars(raw, origin=str(path), interval=interval, tz=tz, header_lines=header_lines,
                         dayfirst=dayfirst)
    return _select(bars, symbols, path)


def _select(frame: pd.DataFrame, symbols: Iterable[str] | None, path: Path) -> pd.DataFrame:
    """Only ``symbols`` (all when None), naming any the file lacks."""
    if symbols is None:
        return frame
    wanted = list(dict.fromkeys([symbols] if isinstance(symbols, str) else symbols))
    have = set(frame["symbol"])
    missing = [s for s in wanted if s not in have]
    if missing:
        raise DataError(f"{path}: unknown symbol(s) {', '.join(missing)} (the file has: {', '.join(sorted(have))})")
    return frame[frame["symbol"].isin(wanted)].reset_index(drop=True)
