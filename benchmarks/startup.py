"""Start-up time (issue 16): ``python benchmarks/startup.py [--runs 5]``.

Times fresh interpreters, round-robin so that the machine's load falls on every case alike:
``python -c pass`` (the baseline), ``python -c "import impact"`` and ``impact --help``
(run as the installed console script runs it: ``from impact.cli.main import main``).
Prints the median wall time of each, its ratio to the baseline and its excess over it,
and which heavy libraries each case loaded (targets: import <= 0.3 s, --help <= 0.4 s).
The package imported is the one of this checkout (the processes run in it, with PYTHONPATH set to it).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "scipy", "scipy.stats", "statsmodels", "matplotlib", "jinja2", "exchange_calendars",
         "pandas_market_calendars", "arch", "linearmodels", "yfinance", "pyarrow", "yaml", "tqdm")
# the console script's own lines (pip's entry-point stub for impact = impact.cli.main:main)
HELP = "import sys\nfrom impact.cli.main import main\nsys.argv[1:] = ['--help']\ntry:\n    main()\nexcept SystemExit:\n    pass"
CASES = {"python -c pass": "pass", "import impact": "import impact", "impact --help": HELP,
         "from impact import EventStudy": "from impact import EventStudy"}  # the first real use: where the cost went
TARGETS = {"import impact": 0.3, "impact --help": 0.4}
REPORT = "\nimport json, sys\nprint(json.dumps([len(sys.modules), [m for m in %r if m in sys.modules]]), file=sys.stderr)"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def loaded(code: str) -> tuple[int, list[str]]:
    """(modules in sys.modules, heavy libraries among them) after ``code``, in a fresh process (not timed)."""
    out = subprocess.run([sys.executable, "-c", code + REPORT % (HEAVY,)], env=_env(), cwd=ROOT, capture_output=True, text=True, check=True)
    count, heavy = json.loads(out.stderr.strip().splitlines()[-1])
    return count, heavy


def main(runs: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for code in CASES.values():  # one warm-up each: the first run pays for cold file caches
        wall(code)
    for _ in range(runs):
        for name, code in CASES.items():
            times[name].append(wall(code))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"impact start-up (python {sys.version.split()[0]}, median of {runs} fresh processes each, "
          f"load average {load:.1f} on {os.cpu_count()} cores)")
    base = statistics.median(times["python -c pass"])
    for name, code in CASES.items():
        median = statistics.median(times[name])
        count, heavy = loaded(code)
        target = f", target <= {TARGETS[name]:.1f} s" if name in TARGETS else ""
        print(f"  {name:<30} {median:6.3f} s  x{median / base:5.1f} of python -c pass, {median - base:+.3f} s{target}"
              f"  | {count} modules; heavy: {', '.join(heavy) or 'none'}")
        print(f"  {'':<30} runs: {', '.join(f'{t:.3f}' for t in times[name])}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per case (default 5)")
    main(parser.parse_args().runs)
