"""The whole battery at 1M pairs (issue 16): run ``python benchmarks/battery_1m.py`` (``--assets 2000``
for a quick 200k-pair run). Target: fit + CAR + all 11 tests <= 20 s, peak RSS <= 4 GB.

All data are SYNTHETIC (``synthetic_panel(assets, 100, seed=2)`` of benchmarks/run.py: seeded
Gaussian market-model returns on a business-day calendar), labelled as such in the output; they
measure speed and memory, not markets. The workload is run_a's of benchmarks/run.py at run_b's
size: market model, estimation window (-260,-11), event window (-5,5), contamination="ignore";
``fit()``, ``car((-5,5))``, ``caar((-5,5))``, then every test of ``impact.inference.battery.TESTS``
but placebo over ``window=(-1,1)`` and per event day. It runs in this one fresh process, so the
peak RSS (``ru_maxrss``) is the workload's own (the machine's memory is warmed first in a
separate process, benchmarks/warm_memory.py; ``--cold`` skips it); each stage's seconds are printed, the shared
battery inputs (:func:`impact.inference.inputs.inputs` and its one summary pass over the
estimation rows) timed on their own before the first test.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import EVW, study, synthetic_panel  # noqa: E402  (benchmarks/run.py, imported as a script sibling)
from warm_memory import warm_memory  # noqa: E402

from impact.inference.battery import TESTS  # noqa: E402
from impact.inference.inputs import inputs  # noqa: E402

TARGET_S, TARGET_GB = 20.0, 4.0


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: kB


def main(n_assets: int, n_events: int) -> dict[str, float]:
    frame, events = synthetic_panel(n_assets, n_events, seed=2)
    s = study(frame, events)
    base_gb = peak_rss_gb()
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    result = s.fit()
    stages["fit"] = time.perf_counter() - t0
    t = time.perf_counter()
    result.car(EVW)
    result.caar(EVW)
    stages["CAR+CAAR"] = time.perf_counter() - t
    t = time.perf_counter()
    inputs(result).summary()  # the one pass over the estimation rows that the tests share
    stages["inputs"] = time.perf_counter() - t
    for name in (n for n in TESTS if n != "placebo"):
        t = time.perf_counter()
        result.test(name, window=(-1, 1))
        result.test(name)  # per event day
        stages[name] = time.perf_counter() - t
    total = time.perf_counter() - t0
    tests = total - stages["fit"] - stages["CAR+CAAR"]
    peak = peak_rss_gb()
    print(f"SYNTHETIC battery, {len(result.pairs):,} asset-events ({n_assets:,} assets x {n_events} dates), "
          f"market model, window [-1,1] and per day:")
    print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    print(f"  inputs + 11 tests {tests:.2f} s; total fit + CAR + tests {total:.2f} s wall "
          f"(target <= {TARGET_S:.0f} s at 1M pairs); peak RSS {peak:.2f} GB "
          f"(target <= {TARGET_GB:.0f} GB; {base_gb:.2f} GB before the fit, panel and imports)")
    return {**stages, "total": total, "peak_gb": peak}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000, help="assets (pairs = assets x dates)")
    parser.add_argument("--dates", type=int, default=100, help="event dates")
    parser.add_argument("--cold", action="store_true", help="do not warm the machine's memory first")
    args = parser.parse_args()
    if not args.cold:
        print(warm_memory())
    main(args.assets, args.dates)
