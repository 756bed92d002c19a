"""``impact backtest SPEC``: run a backtest spec, print or write its results."""
from __future__ import annotations

import argparse
import sys

from ..backtest import load_rule, run_backtest
from ..backtest.output import write_backtest_report
from ..csvsafe import to_csv
from .args import text_table


def cmd_backtest(args: argparse.Namespace) -> int:
    result = run_backtest(load_rule(args.spec))
    if args.out is not None:
        index = write_backtest_report(result, args.out)
        print(f"backtest report written to {index}", file=sys.stderr if args.format == "csv" else sys.stdout)
    if args.format == "csv":
        to_csv(result.trade_table(), sys.stdout, index=False, float_format="%.10g")
        return 0
    print(result.summary())
    print()
    columns = ["event_id", "asset", "side", "entry_date", "exit_date", "return_gross", "cost", "return_net", "cum_pnl"]
    if result.rule.sizing.method != "equal":  # P&L = weight x net: show the weight that links them
        columns.insert(columns.index("cum_pnl"), "weight")
    table = result.trade_table()[columns]
    percent = {"return_gross": "gross", "cost": "cost", "return_net": "net", "cum_pnl": "cum. P&L"}
    shown = table.assign(**{c: table[c].map(lambda v: f"{100 * v:+.2f}%") for c in percent}).rename(columns=percent)
    if "weight" in shown:
        shown["weight"] = table["weight"].map(lambda v: f"{v:.2f}")
    print(text_table(shown))  # percent, as in the summary above; --format csv keeps decimals
    return 0
