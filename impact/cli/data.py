"""``impact data fetch|list|clear|check``: the local price cache and data quality."""
from __future__ import annotations

import argparse
import os
import sys
import textwrap

import pandas as pd

from ..csvsafe import to_csv
from ..data import datasets
from ..data.cache import PriceCache
from ..data.files import load_price_file
from ..data.prices import as_day
from ..data.quality import check_prices, quality_summary
from ..data.yahoo import YahooSource
from ..errors import DataError
from .args import terminal_width, text_table


def _cache(args):

    return PriceCache(args.cache_dir)


def cmd_fetch(args: argparse.Namespace) -> int:

    start = as_day(args.start, "--start") if args.start is not None else None
    end = as_day(args.end, "--end") if args.end is not None else None
    cache = _cache(args)
    report = cache.fetch(args.symbols, start, end, YahooSource(auto_adjust=args.auto_adjust),
                         offline=args.offline, refresh=args.refresh)
    for symbol, problem in report.corrupt.items():
        print(f"{symbol}: {problem}; {'re-fetched' if symbol in report.fetched else 'not re-fetched'}",
              file=sys.stderr)
    for symbol, note in report.incomplete.items():
        if symbol not in report.failed:
            print(f"{symbol}: {note}", file=sys.stderr)
    counts = report.prices.groupby("symbol").size() if len(report.prices) else pd.Series(dtype=int)
    for symbol in args.symbols:
        if symbol in report.fetched:
            ranges = ", ".join(f"{a}..{b}" for a, b in report.fetched[symbol])
            print(f"{symbol}: fetched {ranges}; {int(counts.get(symbol, 0))} rows in range")
        elif symbol in report.from_cache:
            print(f"{symbol}: up to date in cache; {int(counts.get(symbol, 0))} rows in range")
    print(f"cache: {cache.root}")
    report.raise_for_failures()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    cache = _cache(args)
    table = cache.entries()
    if args.format == "csv":
        to_csv(table, sys.stdout, index=False)
        return 0
    print(f"cache: {cache.root}")
    if table.empty:
        print("(empty)")
        return 0
    width = None if args.wide else terminal_width()
    print(text_table(_list_view(table), width))
    bad = table[table["status"] != "ok"]
    for symbol, status in zip(bad["symbol"], bad["status"]):
        note = f"{symbol}: " + status.replace(f"{cache.root}{os.sep}", "")  # the folder is printed above
        print(note if width is None else textwrap.fill(note, width, subsequent_indent="  "))
    if len(bad):
        names = " ".join(bad["symbol"])
        print(f"fix: `impact data fetch {names} --refresh` replaces them, `impact data clear {names}` deletes them")
    return 0


def _list_view(table: pd.DataFrame) -> pd.DataFrame:
    """The human table: one date range, the fetch time to the minute in UTC, sizes in KB;
    an unreadable file's reason is printed under the table, not in it."""
    fetched = pd.to_datetime(table["fetched_at"], errors="coerce", utc=True)
    return pd.DataFrame({
        "symbol": table["symbol"], "source": table["source"], "adjustment": table["adjustment"],
        "dates": [f"{a}..{b}" if a else "" for a, b in zip(table["start"], table["end"])],
        "rows": table["rows"].where(table["status"] == "ok", ""),
        "fetched (UTC)": fetched.dt.strftime("%Y-%m-%d %H:%M").fillna(""),
        "size": [f"{b / 1024:.1f} KB" if b >= 1024 else f"{b} B" for b in table["bytes"]],
        "status": table["status"].where(table["status"] == "ok", "unreadable"),
    })


def cmd_clear(args: argparse.Namespace) -> int:
    if not args.symbols and not args.all:
        raise DataError("name the symbols to delete, or pass --all")
    cache = _cache(args)
    removed = cache.clear(None if args.all else args.symbols)
    print(f"removed {len(removed)} cached symbol(s) from {cache.root}" + (f": {', '.join(removed)}" if removed else ""))
    return 0


def _check_prices_from(args) -> pd.DataFrame:

    symbols = args.symbols or None
    if args.source == "bundled":
        return datasets.load_prices(symbols)
    if args.source == "cache":
        cache = _cache(args)
        wanted = symbols or [e for e in cache.entries()["symbol"]]
        frames, missing = [], []
        for s in wanted:
            entry = cache.read(s)
            if entry is None:
                missing.append(s)
            else:
                frames.append(entry.prices)
        if missing:
            raise DataError(f"not in the cache {cache.root}: {', '.join(missing)} (run `impact data fetch`)")
        if not frames:
            raise DataError(f"the cache {cache.root} is empty")
        return pd.concat(frames, ignore_index=True)
    return load_price_file(args.source, symbols=symbols)


def cmd_check(args: argparse.Namespace) -> int:

    findings = check_prices(_check_prices_from(args))
    if args.format == "csv":
        out = findings.assign(date=findings["date"].dt.strftime("%Y-%m-%d"))
        to_csv(out, sys.stdout, index=False, float_format="%.10g")
        return 0
    print(quality_summary(findings).to_string(index=False))
    print(f"\n{len(findings)} findings; `--format csv` lists them one per row")
    return 0
