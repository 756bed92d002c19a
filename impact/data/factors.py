"""Factor returns for multi-factor normal-return models, on each asset's own rows.

Factors arrive as a frame of daily *simple* returns in decimals, indexed by date
(or with a ``date`` column). A column named ``rf`` is the risk-free rate: it is
not a regressor but is subtracted from the asset's return, so the model is the
usual excess-return regression R_t - rf_t = a + b'f_t + e_t (Fama & French 1993).

An asset's row spans the interval since its previous session. Factor returns are
compounded over that same interval, prod(1 + f) - 1 over the factor days in
(previous session, session] — the factor analogue of measuring a benchmark over
the asset's own intervals (:func:`impact.data.benchmark_returns`). A row whose
interval reaches outside the factor data is NaN (never a silent 0).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .datasets import load_factors

#: Name of the risk-free column, subtracted from the left-hand side.
RF = "rf"
#: Columns of the bundled Fama-French 3 factor file (after :func:`ff3_factors`).
FF3_COLUMNS = ("mkt_rf", "smb", "hml", RF)


def ff3_factors() -> pd.DataFrame:
    """The bundled Fama-French 3 daily factors in decimals: ``mkt_rf, smb, hml, rf`` by date.

    Source data are in percent (Kenneth French's data library); divided by 100 here.
    """

    frame = load_factors()
    return prepare_factors(frame.set_index("date")[list(FF3_COLUMNS)] / 100.0, "ff3 factors")


def prepare_factors(factors: pd.DataFrame, what: str = "factors") -> pd.DataFrame:
    """Validate a factor frame: date index, numeric columns, no duplicated dates.

    Raises :class:`DataError` naming the column or date at fault.
    """
    if not isinstance(factors, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame of factor returns, got {type(factors).__name__}")
    frame = factors.set_index("date") if "date" in factors.columns else factors
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame.index))
    except (TypeError, ValueError):
        raise DataError(f"{what}: the index (or 'date' column) is not parseable as dates") from None
    if index.tz is not None:
        index = index.tz_localize(None)
    frame = frame.set_axis(index.normalize(), axis=0)
    if frame.index.has_duplicates:
        raise DataError(f"{what}: duplicated date {frame.index[frame.index.duplicated()][0]:%Y-%m-%d}")
    regressors = [c for c in frame.columns if c != RF]
    if not regressors:
        raise DataError(f"{what}: no factor columns (columns: {', '.join(map(str, frame.columns))})")
    out = {}
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            raise DataError(f"{what}: column {column!r} has a non-numeric value on {frame.index[bad.to_numpy()][0]:%Y-%m-%d}")
        if (values <= -1).any():
            raise DataError(f"{what}: column {column!r} has a return <= -100% on "
                            f"{frame.index[(values <= -1).to_numpy()][0]:%Y-%m-%d} (are the factors in percent?)")
        out[str(column)] = values.astype(float)
    return pd.DataFrame(out, index=frame.index).sort_index()


def factors_on(factors: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Factor returns compounded over each interval (dates[i-1], dates[i]].

    The first row, rows whose interval starts before the first factor date or ends
    after the last one, and intervals containing a missing factor value are NaN.
    """
    dates = pd.DatetimeIndex(dates)
    growth = np.log1p(factors)
    # Cumulative log growth; a NaN factor day poisons every interval containing it.
    missing = growth.isna().cumsum()
    level = growth.fillna(0.0).cumsum()
    both = level.index.union(dates)
    level_on = level.reindex(both).ffill().reindex(dates)
    miss_on = missing.reindex(both).ffill().reindex(dates)
    out = np.expm1(level_on.diff())
    out[miss_on.diff() != 0] = np.nan
    first, last = factors.index[0], factors.index[-1]
    # An interval needs factor coverage at both ends: the previous session at or after the
    # first factor date (else the compounding start is unknown) and the session at or before the last.
    prev = pd.Series(dates, index=dates).shift(1)
    outside = (prev.isna() | (prev < first) | (dates > last)).to_numpy()
    out.iloc[outside] = np.nan
    return out
