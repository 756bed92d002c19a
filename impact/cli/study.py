"""``impact report`` and ``impact study``: run a report spec."""
from __future__ import annotations

import argparse
import sys

from ..csvsafe import to_csv
from ..progress import set_quiet
from ..report.build import run_spec, write_report
from ..report.spec import load_spec


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
