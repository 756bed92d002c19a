"""Plant the five bugs that survived the old suite (issue 11), one at a time, run the
independent tests against each and restore the file. Not run in CI.

    python benchmarks/plant_survivors.py        # prints caught / NOT CAUGHT per bug

Each bug must make tests/test_independent.py fail; the source is restored from memory
after every run (also on Ctrl-C).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUGS = {
    "Kolari-Pynnonen r-bar over L instead of the usable rows": (
        "impact/inference/parametric.py",
        "    n = np.maximum(ok.sum(axis=1, keepdims=True), 1)\n",
        "    n = np.full((resid.shape[0], 1), float(resid.shape[1]))\n"),
    "Cowan's p-hat over L instead of the usable rows": (
        "impact/inference/nonparametric.py",
        "    cnt = ok.sum(axis=1)\n",
        "    cnt = np.full(len(inp.resid), inp.resid.shape[1])\n"),
    "MVRM F statistic equal to W instead of W/q": (
        "impact/inference/mvrm.py",
        "            f_stat = stat / q\n",
        "            f_stat = stat\n"),
    "CAAR band with z instead of t(n-1)": (
        "impact/study/result.py",
        "crit = stats.t.ppf(0.5 + level / 2, n - 1) if n > 1 else np.nan",
        "crit = stats.norm.ppf(0.5 + level / 2) if n > 1 else np.nan"),
    "placebo exclusion of real windows off by one at the edges": (
        "impact/inference/placebo.py",
        "near |= (cand + wb + guard >= p + wa) & (cand + wa - guard <= p + wb)",
        "near |= (cand + wb + guard > p + wa) & (cand + wa - guard < p + wb)"),
}


def main() -> int:
    missed = 0
    for name, (rel, old, new) in BUGS.items():
        path = ROOT / rel
        original = path.read_text(encoding="utf-8")
        if original.count(old) != 1:
            print(f"?? {name}: the line to mutate is not in {rel} (code changed?)")
            missed += 1
            continue
        try:
            path.write_text(original.replace(old, new), encoding="utf-8")
            run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                  "tests/test_independent.py"], cwd=ROOT, capture_output=True, text=True)
        finally:
            path.write_text(original, encoding="utf-8")
        caught = run.returncode != 0
        missed += not caught
        print(f"{'caught    ' if caught else 'NOT CAUGHT'}  {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
