"""The command line's options: every command, its arguments and its handler, cheap to build.

Building the parser imports no stage of the package: each command's handler is a
:class:`Handler` that names its command module (``study``, ``backtest``, ``data``,
``events``) and imports it when the command runs, so ``impact --help`` and argument
errors never load pandas, scipy, matplotlib or jinja2 (start-up time, docs/architecture.md).
"""
from __future__ import annotations

import argparse
import importlib

from ..version import __version__
from .args import window as window_arg

QUIET_HELP = "no progress bars (they only show on a terminal anyway)"


class Handler:
    """The function ``function`` of the command module ``impact.cli.<module>``, looked up when
    the command runs (``args.func(args)``)."""

    def __init__(self, module: str, function: str):
        self.module, self.function = module, function

    def resolve(self):
        return getattr(importlib.import_module(f".{self.module}", __package__), self.function)

    def __call__(self, args: argparse.Namespace) -> int:
        return self.resolve()(args)

    def __repr__(self) -> str:
        return f"Handler({self.module!r}, {self.function!r})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="impact", description="Event studies of policy announcements on markets.")
    parser.add_argument("--version", action="version", version=f"impact {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in (_study, _backtest, _data, _events):
        register(sub)
    return parser


def _study(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="run a report spec and write an HTML report with figures and tables")
    p.add_argument("spec", nargs="?", default="default", help="bundled spec name or YAML path (default: default)")
    p.add_argument("--out", default="out", help="output folder; the report goes to OUT/<spec name>/ (default: out)")
    p.add_argument("--quiet", "-q", action="store_true", help=QUIET_HELP)
    p.set_defaults(func=Handler("study", "cmd_report"))

    p = sub.add_parser("study", help="run a report spec and print a summary table")
    p.add_argument("spec", nargs="?", default="default", help="bundled spec name or YAML path (default: default)")
    p.add_argument("--format", choices=("table", "csv"), default="table",
                   help="table: human-readable summary; csv: one row per (event, asset) CAR")
    p.add_argument("--window", default=None, type=window_arg,
                   help="CAR window as A,B, e.g. --window -1,1 (default: the spec's first car window)")
    p.add_argument("--quiet", "-q", action="store_true", help=QUIET_HELP)
    p.set_defaults(func=Handler("study", "cmd_study"))


def _backtest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="backtest an event-driven trading rule (YAML spec)")
    p.add_argument("spec", nargs="+", help="bundled backtest spec name(s) (backtests/*.yaml) or YAML path(s); "
                   "several are one family of trials for the deflated Sharpe ratio")
    p.add_argument("--trials", type=int, default=None,
                   help="rules tried in all (default: the number of specs given), for the deflated Sharpe ratio")
    p.add_argument("--format", choices=("table", "csv"), default="table",
                   help="table: summary and trades; csv: one row per trade")
    p.add_argument("--out", default=None, help="also write an HTML page to OUT/<spec name>/")
    p.add_argument("--quiet", "-q", action="store_true", help=QUIET_HELP)
    p.set_defaults(func=Handler("backtest", "cmd_backtest"))


def _data(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cache-dir", default=None,
                        help="price cache folder (default: $IMPACT_CACHE_DIR or the user cache folder)")
    common.add_argument("--quiet", "-q", action="store_true", help=QUIET_HELP)
    p = sub.add_parser("data", help="download and cache prices (yfinance), list/clear the cache, check data quality")
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    f = data_sub.add_parser("fetch", parents=[common], help="download prices into the cache (only the missing range)")
    f.add_argument("symbols", nargs="+", help="package symbols (ZS_F, SPY) or Yahoo tickers (ZS=F, ^GSPC)")
    f.add_argument("--start", default=None, help="first date YYYY-MM-DD (default 2017-01-01)")
    f.add_argument("--end", default=None, help="last date YYYY-MM-DD, inclusive (default: yesterday)")
    f.add_argument("--offline", action="store_true", help="never touch the network; report what the cache lacks")
    f.add_argument("--refresh", action="store_true", help="re-download the whole range")
    f.add_argument("--auto-adjust", action="store_true",
                   help="store yfinance auto_adjust=True prices (default: traded close plus adj_close)")
    f.set_defaults(func=Handler("data", "cmd_fetch"))

    ls = data_sub.add_parser("list", parents=[common], help="list cached symbols with source, range and status")
    ls.add_argument("--format", choices=("table", "csv"), default="table")
    ls.add_argument("--wide", action="store_true", help="full status text (default: the table fits the terminal)")
    ls.set_defaults(func=Handler("data", "cmd_list"))

    c = data_sub.add_parser("clear", parents=[common], help="delete cached symbols")
    c.add_argument("symbols", nargs="*", help="symbols to delete")
    c.add_argument("--all", action="store_true", help="delete every cached symbol")
    c.set_defaults(func=Handler("data", "cmd_clear"))

    k = data_sub.add_parser("check", parents=[common], help="data-quality findings, one row per finding")
    k.add_argument("symbols", nargs="*", help="symbols to check (default: all in the source)")
    k.add_argument("--source", default="bundled",
                   help="bundled (default), cache (the local cache, offline) or a CSV/parquet file")
    k.add_argument("--format", choices=("table", "csv"), default="table")
    k.set_defaults(func=Handler("data", "cmd_check"))


def _catalog_options(p: argparse.ArgumentParser, filters: bool = True) -> None:
    p.add_argument("--catalog", action="append", metavar="FILE",
                   help="catalog file (CSV or YAML); repeat to merge several (default: the bundled catalog)")
    if not filters:
        return
    p.add_argument("--start", help="first local date to keep (YYYY-MM-DD)")
    p.add_argument("--end", help="last local date to keep (YYYY-MM-DD)")
    p.add_argument("--actor", help="comma-separated actors (US, China, both)")
    p.add_argument("--kind", help="comma-separated kinds (tariff, export_control, ...)")
    p.add_argument("--direction", help="comma-separated directions (escalation, de-escalation, neutral)")
    p.add_argument("--confidence", help="comma-separated confidence grades (high, medium, low)")
    p.add_argument("--tags", help="comma-separated tags; keeps events carrying any of them")
    p.add_argument("--ids", help="comma-separated event ids")


def _events(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("events", help="list, show, validate and align event catalogs")
    ev = p.add_subparsers(dest="events_command", metavar="ACTION", required=True)

    q = ev.add_parser("list", help="list catalog events (filterable)")
    q.add_argument("--wide", action="store_true", help="full titles (default: the table fits the terminal, 100+ columns)")
    _catalog_options(q)
    q.add_argument("--format", choices=("table", "csv"), default="table")
    q.set_defaults(func=Handler("events", "cmd_list"))

    q = ev.add_parser("show", help="one event with its day 0 for every bundled asset and the rule applied")
    q.add_argument("event_id")
    _catalog_options(q, filters=False)
    q.add_argument("--assets", help="comma-separated symbols (default: every bundled asset)")
    q.add_argument("--policy", default="earliest", choices=("earliest", "latest"),
                   help="session picked when an unknown time of day leaves day 0 uncertain (default: earliest)")
    q.add_argument("--wide", action="store_true", help="full notes (default: the table fits the terminal)")
    q.set_defaults(func=Handler("events", "cmd_show"))

    q = ev.add_parser("validate", help="check catalog files; prints 'OK: N events' or every problem, one per line")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.set_defaults(func=Handler("events", "cmd_validate"))

    q = ev.add_parser("align", help="one row per (event, asset): day 0 session, rule and flags")
    _catalog_options(q)
    q.add_argument("--assets", help="comma-separated symbols (default: every bundled asset)")
    q.add_argument("--policy", default="earliest", choices=("earliest", "latest"),
                   help="session picked when an unknown time of day leaves day 0 uncertain (default: earliest)")
    q.add_argument("--window", type=window_arg, help="event window A,B, e.g. --window -5,5: also flag events whose windows "
                                    "overlap on an asset's calendar (overlap:<id>@<+k>)")
    q.add_argument("--format", choices=("csv", "table"), default="csv")
    q.set_defaults(func=Handler("events", "cmd_align"))
