"""impact side by side with PyPI ``eventstudy==0.1a12`` (issue 16):
``python benchmarks/vs_eventstudy.py [--sizes 50x40,200x100] [--repeat 3] [--venv /tmp/esvenv]``.

Both run on the same SYNTHETIC returns (seeded; a market factor plus idiosyncratic noise, a +1 % shock
on every event day), written once to a temp CSV. The peer runs in its OWN virtual environment
(``python -m venv /tmp/esvenv && /tmp/esvenv/bin/pip install eventstudy==0.1a12``; it is never a
dependency of impact): a small driver executed by that venv's python reads the CSVs, runs
``Multiple.from_list(..., Single.market_model, ...)`` and writes its AR matrix and its in-process time.
impact runs the same way in a fresh process of this interpreter (this file with ``--side impact``)
with eventstudy-py's conventions (tests/test_peers.py, ../shared/reference/README.md):
estimation_size 200 and buffer 30 before an event window (-5, +10) are the rows
``estimation_window=(-235, -36)``; day 0 is the event date's row; ``contamination="ignore"``
(the peer knows nothing of other events of the same asset).

Reported: max |AR| and |CAR| difference (CAR cumulated from the window start; must be <= 1e-12),
the in-process time (fit + AR + CAR, after the returns are loaded; best of ``--repeat`` calls in one
process) and the end-to-end time (wall time of a fresh process: interpreter, imports, CSV read, one fit,
writing AR/CAR; best of ``--repeat`` processes), and the ratios peer / impact (goals >= 20x, >= 5x).
Without the peer's venv the script says so, runs impact alone and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from impact import EventStudy

ROOT = Path(__file__).resolve().parents[1]
EVENT_WINDOW = (-5, 10)
ESTIMATION_SIZE, BUFFER = 200, 30
# eventstudy-py's estimation rows [T2 - buffer - L, T2 - buffer - 1] relative to day 0
ESTIMATION_WINDOW = (EVENT_WINDOW[0] - BUFFER - ESTIMATION_SIZE, EVENT_WINDOW[0] - BUFFER - 1)
MARKET = "MKT"
GOALS = {"in process": 20.0, "end to end": 5.0}

PEER_DRIVER = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import pandas as pd
    import eventstudy as es

    returns_csv, events_csv, out, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    es.Single.import_returns(returns_csv)
    raw = pd.read_csv(events_csv)
    todo = [{"event_date": np.datetime64(d), "security_ticker": a, "market_ticker": "%(market)s"}
            for a, d in zip(raw["asset"], raw["date"])]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        agg = es.Multiple.from_list(todo, es.Single.market_model, event_window=%(window)r,
                                    estimation_size=%(size)d, buffer_size=%(buffer)d)
        ar = np.array([event.AR for event in agg.sample])
        car = np.array([event.CAR for event in agg.sample])
        best = min(best, time.perf_counter() - t0)
    np.save(out + "_ar.npy", ar)
    np.save(out + "_car.npy", car)
    with open(out + ".json", "w") as f:
        json.dump({"seconds": best, "dropped": len(agg.errors), "version": es.__version__}, f)
""") % {"market": MARKET, "window": EVENT_WINDOW, "size": ESTIMATION_SIZE, "buffer": BUFFER}


def synthetic(n_assets: int, n_dates: int, seed: int = 16) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC returns (market model with beta ~ U(0.5, 1.5), noise sd ~ U(1 %, 3 %)) and every asset on
    every one of ``n_dates`` event dates, spaced at least 20 sessions apart after 300 sessions of history."""
    rng = np.random.default_rng(seed)
    n_rows = 300 + 20 * n_dates + 20
    dates = pd.bdate_range("2010-01-04", periods=n_rows)
    market = rng.normal(3e-4, 0.01, n_rows)
    beta = rng.uniform(0.5, 1.5, n_assets)
    noise = rng.normal(0.0, 1.0, (n_rows, n_assets)) * rng.uniform(0.01, 0.03, n_assets)
    assets = [f"S{i:04d}" for i in range(n_assets)]
    returns = pd.DataFrame(1e-4 + market[:, None] * beta + noise, columns=assets)
    rows = 300 + 20 * np.arange(n_dates) + rng.integers(0, 10, n_dates)
    returns.iloc[rows] += 0.01  # the SYNTHETIC event effect
    returns.insert(0, MARKET, market)
    returns.insert(0, "date", dates.strftime("%Y-%m-%d"))
    events = pd.DataFrame([(a, dates[r].strftime("%Y-%m-%d")) for r in rows for a in assets],
                          columns=["asset", "date"])
    events.insert(0, "event_id", [str(i + 1) for i in range(len(events))])
    return returns, events


def run_impact(returns_csv: str, events_csv: str, out: str, repeat: int) -> None:
    """The impact side in this process: read the CSVs, fit ``repeat`` times, write AR, CAR and the best time."""
    returns = pd.read_csv(returns_csv)
    events = pd.read_csv(events_csv, dtype={"event_id": str})
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = EventStudy.from_returns(returns, events, market=MARKET, model="market",
                                         estimation_window=ESTIMATION_WINDOW, event_window=EVENT_WINDOW,
                                         contamination="ignore").fit()
        ar = result.abnormal
        car = np.cumsum(ar, axis=1)
        best = min(best, time.perf_counter() - t0)
    order = pd.Index(result.pairs["event_id"].astype(str)).get_indexer(events["event_id"])
    if (order < 0).any():
        raise SystemExit(f"impact dropped {(order < 0).sum()} of the events")
    np.save(out + "_ar.npy", ar[order])
    np.save(out + "_car.npy", car[order])
    with open(out + ".json", "w") as f:
        json.dump({"seconds": best, "dropped": 0}, f)


def _fresh(cmd: list[str], out: str) -> tuple[float, dict, np.ndarray, np.ndarray]:
    wall = _wall(cmd)
    with open(out + ".json") as f:
        info = json.load(f)
    return wall, info, np.load(out + "_ar.npy"), np.load(out + "_car.npy")


def import_cost(venv: Path, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` wall time of a fresh process that only imports each side (what end to end adds)."""
    cost = {}
    for name, python, code in (("impact", sys.executable, "from impact import EventStudy"),
                               ("eventstudy", str(venv / "bin" / "python"), "import eventstudy")):
        if Path(python).exists():
            cost[name] = min(_wall([python, "-c", code]) for _ in range(repeat))
    return cost


def _wall(cmd: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def compare(size: str, repeat: int, venv: Path, tmp: Path) -> dict:
    n_assets, n_dates = (int(x) for x in size.split("x"))
    returns, events = synthetic(n_assets, n_dates)
    returns_csv, events_csv = str(tmp / f"returns_{size}.csv"), str(tmp / f"events_{size}.csv")
    returns.to_csv(returns_csv, index=False)
    events.to_csv(events_csv, index=False)
    peer_python = venv / "bin" / "python"
    driver = tmp / "peer_driver.py"
    driver.write_text(PEER_DRIVER)
    row: dict = {"size": size, "pairs": len(events), "rows": len(returns)}
    sides = {"impact": [sys.executable, __file__, "--side", "impact", returns_csv, events_csv]}
    if peer_python.exists():
        sides["eventstudy"] = [str(peer_python), str(driver), returns_csv, events_csv]
    got = {}
    for name, cmd in sides.items():
        out = str(tmp / f"{name}_{size}")
        # end to end: `repeat` fresh processes that fit once; in process: one more that fits `repeat` times
        walls = [_fresh([*cmd, out, "1"], out)[0] for _ in range(repeat)]
        _, info, ar, car = _fresh([*cmd, out, str(repeat)], out)
        got[name] = (ar, car)
        row[name] = {"in process": info["seconds"], "end to end": min(walls), "dropped": info["dropped"]}
    if "eventstudy" in got:
        (ar, car), (par, pcar) = got["impact"], got["eventstudy"]
        row["max |dAR|"] = float(np.max(np.abs(ar - par)))
        row["max |dCAR|"] = float(np.max(np.abs(car - pcar)))
        for kind in GOALS:
            row[f"ratio {kind}"] = row["eventstudy"][kind] / row["impact"][kind]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50x40", help="assets x event dates, comma separated (SYNTHETIC)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/esvenv"))
    parser.add_argument("--side", nargs=5, metavar=("SIDE", "RETURNS", "EVENTS", "OUT", "REPEAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_impact(*args.side[1:4], int(args.side[4]))
        return 0
    load = os.getloadavg()[0]
    print(f"impact vs eventstudy 0.1a12 (SYNTHETIC; python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"pandas {pd.__version__}; load average {load:.1f} on {os.cpu_count()} shared cores; "
          f"event window {EVENT_WINDOW}, estimation rows {ESTIMATION_WINDOW}; best of {args.repeat})")
    if not (args.venv / "bin" / "python").exists():
        print(f"eventstudy peer skipped: no venv at {args.venv} (python -m venv {args.venv} && "
              f"{args.venv}/bin/pip install eventstudy==0.1a12); impact alone:")
    failed = False
    cost = import_cost(args.venv, args.repeat)
    print("  imports alone (fresh process, the floor of end to end): "
          + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in cost.items()))
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            row = compare(size, args.repeat, args.venv, Path(tmp))
            me = row["impact"]
            head = f"  {row['size']:>8} ({row['pairs']:,} pairs, {row['rows']:,} rows)"
            if "eventstudy" not in row:
                print(f"{head}: impact in process {me['in process']:.3f} s, end to end {me['end to end']:.3f} s")
                continue
            peer = row["eventstudy"]
            agree = row["max |dAR|"] <= 1e-12 and row["max |dCAR|"] <= 1e-12 and peer["dropped"] == 0
            failed |= not agree
            print(f"{head}: max |dAR| {row['max |dAR|']:.1e}, max |dCAR| {row['max |dCAR|']:.1e} "
                  f"({'agree' if agree else 'DISAGREE'} to 1e-12; peer dropped {peer['dropped']})")
            for kind, goal in GOALS.items():
                ok = "met" if row[f"ratio {kind}"] >= goal else "NOT met"
                print(f"    {kind:<10}  eventstudy {peer[kind]:8.3f} s  impact {me[kind]:7.3f} s  "
                      f"ratio {row[f'ratio {kind}']:6.1f}x (goal >= {goal:.0f}x: {ok})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
