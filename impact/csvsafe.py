"""CSV files that are safe to open in a spreadsheet (no formula injection).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` (and, via some import paths, tab or carriage return) as a formula, so a
catalog title such as ``=HYPERLINK("http://evil", "click")`` in an exported CSV
would become a live formula. Following OWASP's advice ("CSV Injection"), every
*text* cell that starts with one of those characters gets a leading single quote
``'``, which spreadsheets show as text; column names are treated the same way.

Not escaped:

* numeric, boolean and datetime columns: ``-0.027`` stays a number;
* text that is a plain number (``"-0.027"``, ``"+3"``, ``"1e-5"``): a number is not a formula;
* Parquet files: typed data for programs, not spreadsheets.

How to use: write CSVs meant for people with :func:`to_csv` (``to_csv(frame, path,
index=False)`` instead of ``frame.to_csv(path, index=False)``), or call
:func:`spreadsheet_safe` on the frame first. To get the original text back, strip one
leading ``'`` from text cells whose second character is one of :data:`FORMULA_START`.
"""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

#: A cell starting with one of these is run as a formula by some spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value: Any) -> Any:
    """``'`` + ``value`` for text that a spreadsheet would run as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_typed(series: pd.Series) -> bool:
    dtype = series.dtype
    return (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and text index are escaped (see the module)."""
    out = frame.copy()
    for i in range(out.shape[1]):  # by position: column names may repeat
        column = out.iloc[:, i]
        if not _is_typed(column):
            out.isetitem(i, column.map(escape_cell))
    out.columns = out.columns.map(escape_cell) if not isinstance(out.columns, pd.MultiIndex) else out.columns
    if not isinstance(out.index, pd.MultiIndex) and not _is_typed(out.index.to_series()):
        out.index = out.index.map(escape_cell)
    return out


def to_csv(frame: pd.DataFrame, target: Any, **kwargs: Any) -> None:
    """``frame.to_csv(target, **kwargs)`` with the cells escaped by :func:`spreadsheet_safe`."""
    spreadsheet_safe(frame).to_csv(target, **kwargs)
