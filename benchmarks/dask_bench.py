"""Dask benchmark: ``python benchmarks/dask_bench.py [--pairs 10000000]``.

All data are SYNTHETIC (seeded Gaussian market-model returns, as in benchmarks/run.py); they
measure speed and memory, not markets. A LocalCluster of ``--workers`` worker processes (one
thread each, ``memory_limit="4GB"`` each) runs:

(a) the library path on ``--fit-pairs`` pairs: ``EventStudy(..., engine="dask").fit(client=...)``
    against the local ``fit()`` on the same panel, in the same run (time ratio; equality of AR
    and CAR checked);
(b) out of core, ``--pairs`` pairs: each task generates the SYNTHETIC returns of its own group of
    event dates (all assets of a date together, never one giant frame in the client), fits them
    with the local engine on the worker and returns per-event sums only (pairs, sum and sum of
    squares of CAR[-1,1]); the client reduces them to the CAAR, the cross-sectional t and the
    date-clustered t with its wild bootstrap p (impact.inference.bootstrap on the per-date sums).
    Peak worker memory is each worker process's peak RSS (ru_maxrss), read in its tasks; the baseline
    is one task run in the client process in the same run, EXTRAPOLATED to all tasks run serially.

Each task draws its own SYNTHETIC returns (seeded by task), so a session shared by the estimation
windows of two tasks has different values in each: the benchmark measures throughput, not a panel.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import study, synthetic_panel  # noqa: E402  (the engine benchmark's SYNTHETIC panel)

from impact.inference.bootstrap import bootstrap_from_sums  # noqa: E402


def task(first_event: int, n_events: int, n_assets: int, seed: int) -> dict:
    """Fit ``n_events`` event dates x ``n_assets`` SYNTHETIC assets on this worker; per-event sums only."""
    frame, events = synthetic_panel(n_assets, n_events, seed)  # its own dates, 280 sessions of history first
    events["event_id"] = [f"E{first_event + j:06d}" for j in range(n_events)]
    result = study(frame, events).fit()
    car = result.car((-1, 1))
    sums = car.groupby("event_id")["car"].agg(n="size", s="sum", ss=lambda c: float(np.square(c).sum()))
    return {"sums": sums, "pairs": len(result.pairs), "excluded": len(result.excluded),
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, "pid": os.getpid()}


def reduce_events(sums: pd.DataFrame, draws: int = 999, seed: int = 0) -> dict:
    """CAAR, cross-sectional t and the date-clustered wild bootstrap-t (Cameron, Gelbach & Miller 2008)
    from per-event sums (one event per date here, so events are the date clusters)."""
    n, s, ss = (sums[c].to_numpy(dtype=float) for c in ("n", "s", "ss"))
    N, caar = n.sum(), s.sum() / n.sum()
    sd = np.sqrt((ss.sum() - N * caar**2) / (N - 1))
    _, t_cluster, p = bootstrap_from_sums(s, n, draws, seed)
    return {"pairs": int(N), "caar": caar, "t_cs": caar / (sd / np.sqrt(N)), "t_cluster": float(t_cluster[0]),
            "p_boot": float(p[0])}


def run_a(client, n_pairs: int, n_assets: int) -> None:
    frame, events = synthetic_panel(n_assets, max(1, n_pairs // n_assets))
    t0 = time.perf_counter()
    local = study(frame, events).fit()
    t_local = time.perf_counter() - t0
    remote_study = study(frame, events, engine="dask")
    remote_study.partition_size = max(n_assets, len(local.pairs) // 8)
    t0 = time.perf_counter()
    remote = remote_study.fit(client=client)
    t_dask = time.perf_counter() - t0
    diff = max(float(np.max(np.abs(local.abnormal - remote.abnormal))),
               float(np.max(np.abs(local.car((-1, 1))["car"].to_numpy() - remote.car((-1, 1))["car"].to_numpy()))))
    print(f"(a) SYNTHETIC {len(local.pairs):,} pairs, library path: local fit {t_local:.1f} s, "
          f"fit(client=LocalCluster) {t_dask:.1f} s -> ratio dask/local {t_dask / t_local:.2f}; "
          f"max |AR, CAR difference| {diff:.1e}")


def run_b(client, n_pairs: int, n_assets: int, dates_per_task: int) -> None:
    n_events = max(1, n_pairs // n_assets)
    starts = range(0, n_events, dates_per_task)
    t0 = time.perf_counter()
    one = task(0, min(dates_per_task, n_events), n_assets, 999)  # baseline: one task in this process
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    futures = [client.submit(task, j, min(dates_per_task, n_events - j), n_assets, 1000 + j, pure=False) for j in starts]
    outs = client.gather(futures)
    t_map = time.perf_counter() - t0
    stats = reduce_events(pd.concat([o["sums"] for o in outs]))
    t_all = time.perf_counter() - t0
    peaks: dict[int, float] = {}
    for o in outs:
        peaks[o["pid"]] = max(peaks.get(o["pid"], 0.0), o["peak_gb"])
    print(f"(b) SYNTHETIC {sum(o['pairs'] for o in outs):,} pairs ({n_events:,} event dates x {n_assets:,} assets, "
          f"{len(outs)} tasks of {dates_per_task} dates, {sum(o['excluded'] for o in outs):,} excluded) out of core: "
          f"map {t_map:.1f} s, reduce {t_all - t_map:.2f} s, total {t_all:.1f} s wall "
          f"({stats['pairs'] / t_all / 1e3:,.0f}k pairs/s)")
    serial = t_one / one["pairs"] * stats["pairs"]
    print(f"    baseline in this run: one task ({one['pairs']:,} pairs) in the client process {t_one:.1f} s -> "
          f"{len(outs)} tasks serially ~{serial:,.0f} s (EXTRAPOLATED); Dask wall / serial = {t_all / serial:.2f}; "
          f"client peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")
    print(f"    peak RSS per worker process: {', '.join(f'{g:.2f} GB' for g in sorted(peaks.values()))} (limit 4 GB); "
          f"CAAR[-1,1] {stats['caar']:+.2e} (t_cs {stats['t_cs']:+.2f}, date-clustered t {stats['t_cluster']:+.2f}, "
          f"wild bootstrap p {stats['p_boot']:.2f}; no effect injected)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000, help="pairs of the out-of-core run (b)")
    parser.add_argument("--fit-pairs", type=int, default=200_000, help="pairs of the library-path run (a); 0 skips it")
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--dates-per-task", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    # the worker processes import this folder's run.py (the SYNTHETIC panel) too
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")]))

    load = os.getloadavg()[0]
    print(f"impact Dask benchmark (SYNTHETIC; {args.workers} worker processes x 1 thread, memory_limit 4GB each; "
          f"load average {load:.1f} on {os.cpu_count()} cores, machine shared with other jobs)")
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, memory_limit="4GB",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        if args.fit_pairs:
            run_a(client, args.fit_pairs, min(args.assets, args.fit_pairs))
        run_b(client, args.pairs, args.assets, args.dates_per_task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
