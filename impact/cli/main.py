"""The ``impact`` command line. The options are in :mod:`.parser`; each command group's
handlers are a module beside this one, imported when its command runs."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from ..errors import CatalogError, ImpactError, os_error_message
from ..progress import set_quiet
from .args import negative_values
from .parser import build_parser

__all__ = ["build_parser", "main"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally``/``except BaseException``
    (the atomic output folders) cleans up instead of the process just vanishing."""


def _raise_terminated(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(negative_values(sys.argv[1:] if argv is None else list(argv)))
    # signal handlers can only be set from the main thread (main() may run elsewhere in tests)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    if getattr(args, "quiet", False):  # --quiet on any command: no progress bars (for the process)
        set_quiet(True)
    try:
        return _run(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    """Run the command; bad input, failed writes and interrupts become one line on stderr."""
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
    except OSError as exc:  # a path the command could not read or write
        print(f"impact: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: outputs are written whole or not at all
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"
        print(f"impact: {what}: no partial output was left; run the command again to finish", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
