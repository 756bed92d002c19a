"""Stage 2, data: prices in one validated tidy shape from the bundled sample, files,
yfinance (through the parquet cache), and what is derived from them: returns, gaps,
futures rolls, data quality, factor returns.
"""
