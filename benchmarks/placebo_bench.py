"""Placebo draws stream over draws (issue 16): run ``python benchmarks/placebo_bench.py``
(``--quick``: skip the 100k-pair case; ``--one ASSETS DATES DRAWS STATISTIC [CLUSTERS]``: one case).

All data are SYNTHETIC (benchmarks/run.py's seeded Gaussian market-model panel, 12 sessions between
event dates, market model, estimation window [-260,-11], event window [-5,5], contamination="ignore"),
labelled as such in the output; they measure speed and memory, not markets. Every case runs in a
fresh subprocess, so each peak RSS (``ru_maxrss``) is that case's own; the peak right after the fit
is printed too, so the placebo's own share is visible.

(a) 1,000 assets x 100 dates (100k pairs), 1,000 draws of the default statistic (the CAAR per
    relative day, one pseudo-date per event): target <= 30 s and <= 2 GB peak RSS.
(b) The same with ``clusters="pair"`` (an independent date for every pair: the compact draws are
    then draws x pairs small integers) and with the CAR over [-1,1].
(c) Smaller: 100 assets x 100 dates (10k pairs), 1,000 draws (a growth point against (a)).
(d) The test statistics (recomputed draw by draw through the battery): 100 assets x 20 dates
    (2k pairs), 100 draws each of a parametric test (bmp, t_cs) and rank / sign tests
    (corrado_rank, generalized_sign).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from run import study, synthetic_panel

from impact.inference.placebo import placebo_test

TARGET_SECONDS, TARGET_GB = 30.0, 2.0


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: kB


def one(n_assets: int, n_dates: int, n_draws: int, statistic: str, clusters: str = "event",
        window: str = "none") -> dict:
    frame, events = synthetic_panel(n_assets, n_dates, seed=2)
    t0 = time.perf_counter()
    result = study(frame, events).fit()
    fit_s, fit_gb = time.perf_counter() - t0, peak_gb()
    win = None if window == "none" else tuple(int(v) for v in window.strip("[]").split(","))
    t0 = time.perf_counter()
    table = placebo_test(result, win, statistic=statistic, n_draws=n_draws, seed=0, clusters=clusters)
    return {"assets": n_assets, "dates": n_dates, "pairs": len(result.pairs), "draws": n_draws,
            "statistic": statistic, "clusters": clusters, "window": window, "fit_s": fit_s, "fit_gb": fit_gb,
            "placebo_s": time.perf_counter() - t0, "peak_gb": peak_gb(),
            "p_first": float(table["p_value"].iloc[0])}


def run(*args) -> dict:
    cmd = [sys.executable, __file__, "--one", *map(str, args)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(tag: str, r: dict, target: bool = False) -> None:
    line = (f"{tag} SYNTHETIC {r['pairs']:,} pairs ({r['assets']:,} assets x {r['dates']} dates), {r['draws']:,} draws, "
            f"statistic={r['statistic']}, clusters={r['clusters']}, window={r['window']}: placebo {r['placebo_s']:.1f} s "
            f"(fit {r['fit_s']:.1f} s before it), peak RSS {r['peak_gb']:.2f} GB (after the fit {r['fit_gb']:.2f} GB)")
    if target:
        ok = r["placebo_s"] <= TARGET_SECONDS and r["peak_gb"] <= TARGET_GB
        line += f"; target <= {TARGET_SECONDS:.0f} s, <= {TARGET_GB:.0f} GB: {'met' if ok else 'NOT met'}"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k-pair cases")
    parser.add_argument("--one", nargs="+", metavar="ARG", help="ASSETS DATES DRAWS STATISTIC [CLUSTERS [WINDOW, e.g. [-1,1]]]")
    args = parser.parse_args(argv)
    if args.one:
        a, d, b, stat, *rest = args.one
        print(json.dumps(one(int(a), int(d), int(b), stat, *rest)))
        return 0
    print(f"placebo benchmarks (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); all data SYNTHETIC")
    if not args.quick:
        big = run(1000, 100, 1000, "caar")
        show("(a)", big, target=True)
        show("(b)", run(1000, 100, 1000, "caar", "pair", "[-1,1]"))
    small = run(100, 100, 1000, "caar")
    show("(c)", small)
    if not args.quick:
        print(f"    growth 10k -> 100k pairs at 1,000 draws: time x{big['placebo_s'] / small['placebo_s']:.1f} "
              f"for pairs x{big['pairs'] / small['pairs']:.0f}")
    for stat in ("bmp", "t_cs", "corrado_rank", "generalized_sign"):
        show("(d)", run(100, 20, 100, stat, "event", "[-1,1]"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
