"""``impact events``: list, show, validate and align event catalogs."""
from __future__ import annotations

import argparse
import sys
import textwrap

import pandas as pd

from ..csvsafe import to_csv
from ..data.datasets import load_prices
from ..errors import CatalogError, ImpactError
from ..events.align import align_events
from ..events.assets import get_asset, registry
from ..events.calendars import asset_zone, sessions
from ..events.catalog import load_catalog, load_catalogs, merge_catalogs
from ..events.contamination import contamination
from .args import terminal_width, text_table


def _catalog(args: argparse.Namespace, filters: bool = True):

    catalog = load_catalogs(*args.catalog) if args.catalog else load_catalog()
    if filters:
        catalog = catalog.filter(start=args.start, end=args.end, actor=args.actor, kind=args.kind,
                                 direction=args.direction, confidence=args.confidence, tags=args.tags, ids=args.ids)
    return catalog


def _assets(text: str | None) -> list[str]:

    if not text:
        return list(registry().index)
    assets = [a.strip() for a in text.split(",") if a.strip()]
    if not assets:
        raise ImpactError("--assets is empty")
    return assets


def cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    frame = catalog.events.assign(date=catalog.events["date"].dt.strftime("%Y-%m-%d"),
                                  tags=catalog.events["tags"].map(";".join))
    if args.format == "csv":
        to_csv(frame, sys.stdout, index=False)  # catalog text: escaped for spreadsheets
        return 0
    # one "when" column (date, local time, the zone's city) leaves the title room within 100 columns
    when = (frame["date"] + " " + frame["time_local"].fillna("").astype(str)).str.strip() + " " + \
        frame["timezone"].astype(str).str.split("/").str[-1]
    table = pd.DataFrame({"event_id": frame["event_id"], "when (local)": when, "actor": frame["actor"],
                          "kind": frame["kind"], "direction": frame["direction"], "title": frame["title"]})
    print(text_table(table, None if args.wide else terminal_width(), fit="title") if len(frame) else "(no events match)")
    print(f"{len(frame)} events")
    return 0


def _local(ts: pd.Timestamp, zone: str) -> str:
    return "" if pd.isna(ts) else ts.tz_convert(zone).strftime("%Y-%m-%d %H:%M %Z")


def cmd_show(args: argparse.Namespace) -> int:

    catalog = _catalog(args, filters=False)
    event = catalog.get(args.event_id)
    when = f"{event['date']:%Y-%m-%d} {event['time_local'] or '(time unknown)'} {event['timezone']}"
    for label, value in (("event", event["event_id"]), ("when", when), ("timing class", event["us_timing"]),
                         ("actor", event["actor"]), ("kind", event["kind"]), ("direction", event["direction"]),
                         ("confidence", event["confidence"]), ("title", event["title"]),
                         ("sources", event["source"]), ("tags", ", ".join(event["tags"]) or "-"),
                         ("notes", event["notes"] or "-")):
        print(f"{label:>13}: {value}")
    assets = _assets(args.assets)
    out = align_events(catalog.events[catalog.events["event_id"] == args.event_id], assets, args.policy)
    lo, hi = out["instant_lo"].iloc[0], out["instant_hi"].iloc[0]
    span = _local(lo, "UTC") if lo == hi else f"{_local(lo, 'UTC')} .. {_local(hi, 'UTC')}"
    print(f"{'instant':>13}: {span}  (rule: {out['rule'].iloc[0].split(';')[0]})")
    print()
    coverage = _bundled_coverage()
    rows = []
    for r in out.itertuples(index=False):
        zone = asset_zone(get_asset(r.asset))
        rows.append({"asset": r.asset, "calendar": r.calendar,
                     "day0": "" if pd.isna(r.day0) else f"{r.day0:%Y-%m-%d %a}",
                     "open": _clock(r.open_utc, zone, r.day0), "close": _clock(r.close_utc, zone, r.day0),
                     "news in": r.part or "-", "flags": r.flags or "-",
                     "note": r.reason or _data_note(coverage, r.asset, r.day0)})
    table = pd.DataFrame(rows)
    print("Each asset's day 0, when its daily open and close are struck (local time; the weekday when it is")
    print("not day 0's), and the part of day 0 the news fall in: overnight (previous close -> open) or trading.")
    width = None if args.wide else terminal_width()
    print(text_table(table.drop(columns="note"), width, fit="flags"))
    for asset, note in zip(table["asset"], table["note"]):  # under the table: the table stays narrow
        if note:
            print(f"{asset}: {note}" if width is None else textwrap.fill(f"{asset}: {note}", width, subsequent_indent="  "))
    return 0


def _clock(ts: pd.Timestamp, zone: str, day0) -> str:
    """A struck instant on the asset's clock: ``09:30 EDT``, with the weekday when it is not
    day 0's (a futures open the evening before: ``Thu 19:00 CDT``)."""
    if pd.isna(ts):
        return "-"
    local = ts.tz_convert(zone)
    same = not pd.isna(day0) and local.normalize().tz_localize(None) == day0
    return local.strftime("%H:%M %Z" if same else "%a %H:%M %Z")


def _bundled_coverage() -> dict[str, pd.DatetimeIndex]:
    """Session dates of each bundled price series (to say when day 0 has no price)."""

    prices = load_prices()
    return {s: pd.DatetimeIndex(g["date"]) for s, g in prices.groupby("symbol")}


def _data_note(coverage: dict, asset: str, day0) -> str:
    dates = coverage.get(asset)
    if pd.isna(day0) or dates is None or day0 in dates:
        return "" if dates is not None else "no bundled prices"
    if day0 > dates.max():
        return f"no bundled price: series ends {dates.max():%Y-%m-%d}"
    if day0 < dates.min():
        return f"no bundled price: series starts {dates.min():%Y-%m-%d}"
    return "no bundled price on day 0"


def cmd_validate(args: argparse.Namespace) -> int:

    problems, catalogs = [], []
    for path in args.files:
        try:
            catalogs.append(load_catalog(path))
        except CatalogError as exc:
            problems.extend(exc.problems)
    if not problems and len(catalogs) > 1:
        try:  # ids must also stay unique across the files given together
            merge_catalogs(*catalogs)
        except CatalogError as exc:
            problems.extend(exc.problems)
    total = sum(len(c) for c in catalogs)
    if problems:
        for problem in problems:
            print(problem)
        print(f"impact: error: {len(problems)} problem(s) in {', '.join(args.files)}", file=sys.stderr)
        return 2
    print(f"OK: {total} events")
    return 0


def cmd_align(args: argparse.Namespace) -> int:

    catalog = _catalog(args)
    assets = _assets(args.assets)
    out = align_events(catalog.events, assets, args.policy)
    if args.window:
        found = contamination(out, {a: sessions(get_asset(a)) for a in assets}, args.window)
        out["flags"] = [";".join(x for x in (f, g) if x) for f, g in zip(out["flags"], found.flags)]
    out["day0"] = out["day0"].dt.strftime("%Y-%m-%d")
    for column in ("instant_lo", "instant_hi", "close_utc"):
        out[column] = out[column].map(lambda ts: "" if pd.isna(ts) else ts.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if args.format == "csv":
        to_csv(out, sys.stdout, index=False)
    else:
        with pd.option_context("display.width", 200, "display.max_colwidth", 50):
            print(out[["event_id", "asset", "day0", "rule", "flags", "close_utc"]].to_string(index=False))
    return 0
