"""``impact backtest SPEC``: run a backtest spec, print or write its results."""
from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from ..backtest import load_rule, run_backtest
from ..backtest.output import write_backtest_report
from ..backtest.result import deflate
from ..csvsafe import to_csv
from ..errors import SpecError
from .args import text_table


def cmd_backtest(args: argparse.Namespace) -> int:
    specs = args.spec if isinstance(args.spec, list) else [args.spec]
    if args.trials is not None and args.trials < len(specs):
        raise SpecError(f"--trials {args.trials}: fewer than the {len(specs)} spec(s) given; "
                        "give the number of rules tried in all")
    results = [run_backtest(load_rule(spec)) for spec in specs]
    deflate(results, args.trials)
    for k, result in enumerate(results):
        if args.out is not None:
            index = write_backtest_report(result, args.out)
            print(f"backtest report written to {index}", file=sys.stderr if args.format == "csv" else sys.stdout)
        if args.format == "csv":
            table = result.trade_table()
            if len(results) > 1:
                table.insert(0, "rule", result.rule.name)
            to_csv(table, sys.stdout, index=False, float_format="%.10g", header=k == 0)
        else:
            if k:
                print()
            _print_result(result)
    if len(results) > 1 and args.format != "csv":
        print()
        print(_trials_table(results))
    return 0


def _trials_table(results) -> str:
    """One line per rule of the run: Sharpe, PSR, the expected maximum Sharpe SR0 and the DSR."""
    num = lambda v, d=2: "n/a" if not np.isfinite(v) else f"{v:.{d}f}"  # noqa: E731
    rows = pd.DataFrame([{"rule": r.rule.name, "trades": r.metrics["n_trades"], "Sharpe": num(r.metrics["sharpe"]),
                          "daily SR": num(r.metrics["sr_daily"], 4), "PSR(>0)": num(r.metrics["psr"]),
                          "SR0 (daily)": num(r.metrics["sr0"], 4), "DSR": num(r.metrics["dsr"])} for r in results])
    head = (f"{results[0].metrics['trials']} rules tried: the deflated Sharpe ratio is the PSR at SR0, the "
            "expected best daily\nSharpe of that many zero-skill rules (Bailey & Lopez de Prado 2014)")
    return head + "\n" + text_table(rows)


def _print_result(result) -> None:
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
    rolled = result.trades[result.trades["roll_days"] != ""]
    if len(rolled) and result.rule.roll_adjust == "splice":
        print("\ntrades across futures rolls (gross = raw - roll gap; roll_rule in --format csv):")
        cols = {"return_gross_raw": "raw gross", "roll_gap": "roll gap", "return_gross": "gross"}
        table = rolled[["event_id", "asset", "roll_days", *cols]].rename(columns=cols)
        print(text_table(table.assign(**{c: table[c].map(lambda v: f"{100 * v:+.2f}%") for c in cols.values()})))
