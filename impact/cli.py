"""The ``impact`` command line. Each command group lives in :mod:`impact.commands`."""
from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import CatalogError, ImpactError

#: Command-group modules; each defines ``register(subparsers)``.
COMMAND_MODULES = ("impact.commands.study", "impact.commands.backtest", "impact.commands.data",
                   "impact.commands.events")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="impact", description="Event studies of policy announcements on markets.")
    parser.add_argument("--version", action="version", version=f"impact {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CatalogError as exc:
        print(f"impact: error: {exc.problems[0]}" if len(exc.problems) == 1 else "impact: error: invalid catalog:",
              file=sys.stderr)
        if len(exc.problems) > 1:
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
        return 2
    except ImpactError as exc:
        print(f"impact: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
