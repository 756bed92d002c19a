"""``impact report`` and ``impact study``: run a report spec."""
from __future__ import annotations

import argparse
import sys

from ..csvsafe import to_csv
from ..progress import set_quiet
from ..report.build import run_spec, write_report
from ..report.spec import load_spec
from .args import window as window_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="run a report spec and write an HTML report with figures and tables")
    p.add_argument("spec", nargs="?", default="default", help="bundled spec name or YAML path (default: default)")
    p.add_argument("--out", default="out", help="output folder; the report goes to OUT/<spec name>/ (default: out)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars (they only show on a terminal anyway)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("study", help="run a report spec and print a summary table")
    p.add_argument("spec", nargs="?", default="default", help="bundled spec name or YAML path (default: default)")
    p.add_argument("--format", choices=("table", "csv"), default="table",
                   help="table: human-readable summary; csv: one row per (event, asset) CAR")
    p.add_argument("--window", default=None, type=window_arg,
                   help="CAR window as A,B, e.g. --window -1,1 (default: the spec's first car window)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars (they only show on a terminal anyway)")
    p.set_defaults(func=cmd_study)


def cmd_report(args: argparse.Namespace) -> int:
    set_quiet(args.quiet)
    spec = load_spec(args.spec)
    output = write_report(spec, args.out)
    print(f"report written to {output.index}")
    return 0


def cmd_study(args: argparse.Namespace) -> int:
    set_quiet(args.quiet)
    spec = load_spec(args.spec)
    result = run_spec(spec).by_bundle()  # one row per (asset, session): a shared day 0 is one finding
    window = args.window or spec.car_windows[0]
    if args.format == "csv":
        to_csv(result.car(window), sys.stdout, index=False, float_format="%.10g")
        return 0
    summary = result.summary(window)  # a window outside the event window fails here, before any output
    table = result.caar(window, by="asset")
    print(spec.title)
    print(summary)
    print()
    print(f"CAAR {list(window)} by asset (signed, one asset per row)")
    shown = table.assign(caar=table["caar"].map(lambda v: f"{v:+.2%}"), sd=table["sd"].map(lambda v: f"{v:.2%}"),
                         t=table["t"].map(lambda v: f"{v:.2f}"), p_value=table["p_value"].map(lambda v: f"{v:.3f}"))
    print(shown.drop(columns="window").to_string(index=False))
    return 0
