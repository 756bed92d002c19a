"""Stage 2, data: prices in one validated tidy shape from the bundled sample, files,
yfinance (through the parquet cache), and what is derived from them: returns, gaps,
futures rolls, data quality, factor returns; intraday bars (:func:`load_bars`).
"""
from .load import load_bars, load_prices

__all__ = ["load_bars", "load_prices"]
