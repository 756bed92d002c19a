"""Engine benchmarks: run ``python benchmarks/run.py`` (add ``--quick`` to skip the 1M case).

All data here are SYNTHETIC (seeded Gaussian market-model returns on a business-day
calendar), labelled as such in the output; they measure speed, not markets.

(a) 10,000 asset-events (100 assets x 100 event dates), market model, [-5,+5] event
    window, 250-session estimation window: fit + CAR + every test of the battery
    except placebo, end to end (target < 1 s).
(b) 1,000,000 asset-events (10,000 assets x 100 dates): fit + CAR + CAAR with engine "auto"
    (the prefix-sum fit at this size) and "windows", against two plain numpy prefix-sum
    market models in the same process (targets: <= 3 s, <= 1.5x the baseline; < 4 GB).
(c) the (b) workload through a per-pair statsmodels OLS loop, timed on a subsample
    and extrapolated linearly (stated as such), reported as a speed ratio to (b).

Event dates are 12 sessions apart, so no two event windows of an asset overlap and
``contamination="ignore"`` is the honest setting (there is nothing to exclude); the
default ``"exclude"`` would instead mask other events' windows out of every
estimation window, which is a different workload.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

from impact import EventStudy
from impact.study.pairs import apply_contamination, pairs_from_events

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from warm_memory import warm_memory  # noqa: E402  (a script sibling)

EST, EVW = (-260, -11), (-5, 5)
LOOP_MS = [float("nan")]  # the lean loop's ms per pair, measured in (c)


def synthetic_panel(n_assets: int, n_events: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC returns: R_it = 1e-4 + beta_i m_t + e_it, m ~ N(3e-4, 0.01^2), e ~ N(0, 0.02^2)."""
    rng = np.random.default_rng(seed)
    first, gap = 280, 12
    T = first + gap * n_events + 20
    dates = pd.bdate_range("2000-01-03", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    beta = rng.uniform(0.5, 1.5, n_assets)
    R = 1e-4 + m[:, None] * beta[None, :] + rng.normal(0.0, 0.02, (T, n_assets))
    frame = pd.DataFrame(R, index=dates, columns=[f"A{i:05d}" for i in range(n_assets)])
    frame["MKT"] = m
    events = pd.DataFrame({"event_id": [f"E{j:04d}" for j in range(n_events)],
                           "date": dates[first + gap * np.arange(n_events)]})
    return frame, events


def study(frame: pd.DataFrame, events: pd.DataFrame, engine: str | None = None) -> EventStudy:
    s = EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=EST,
                                event_window=EVW, contamination="ignore")
    if engine:
        s.engine = engine
    return s


def screening_seconds(s: EventStudy) -> float:
    """Time of the overlap screening step inside fit() (impact.events.contamination, a separate
    module, run on the study's own pairs), reported so the engine's own share is visible."""
    pairs = pairs_from_events(s.events, s._study_assets(), s.alignment_policy, s.panel,
                              s.session_part).reset_index(drop=True)
    sessions = {a: s.panel.returns[a].index for a in pairs["asset"].unique()}
    t0 = time.perf_counter()
    apply_contamination(pairs, sessions, s.event_window, s.contamination)
    return time.perf_counter() - t0


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: kB


def battery_names() -> list[str]:
    try:
        from impact.inference.battery import TESTS
    except ImportError:  # the battery is developed separately; measure what exists
        return []
    return [t for t in TESTS if t != "placebo"]


def run_a(n_assets: int = 100, n_events: int = 100) -> float:
    frame, events = synthetic_panel(n_assets, n_events, seed=1)
    tests = battery_names()
    study(frame, events).fit().car()  # warm-up: imports and first-call costs are not the engine's
    t0, c0 = time.perf_counter(), time.process_time()
    result = study(frame, events).fit()
    t_fit = time.perf_counter() - t0
    result.car(EVW)
    result.caar(EVW)
    t_car = time.perf_counter() - t0
    for name in tests:
        result.test(name, window=(-1, 1))
        result.test(name)  # per event day
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(f"(a) SYNTHETIC {len(result.pairs):,} asset-events: fit {t_fit:.3f} s, +CAR/CAAR {t_car:.3f} s, "
          f"+{len(tests)} tests (window [-1,1] and per day) -> total {total:.3f} s wall, {cpu:.3f} s CPU "
          f"(target < 1 s)")
    print(f"    tests run: {', '.join(tests) if tests else 'none available'}; "
          f"overlap screening inside fit: {screening_seconds(study(frame, events)):.3f} s")
    return total


def numpy_wide(frame: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Plain numpy prefix-sum market model on the wide (sessions x assets) matrix: the market's
    sums are shared by every asset, which only a common calendar allows. Returns CAR (E, N)."""
    R = frame.drop(columns="MKT").to_numpy()
    m = frame["MKT"].to_numpy()
    day0 = frame.index.get_indexer(pd.DatetimeIndex(events["date"]))

    def prefix(v):
        out = np.zeros((len(v) + 1,) + v.shape[1:])
        np.cumsum(v, axis=0, out=out[1:])
        return out

    Sy, Syy, Sxy, Sx, Sxx = prefix(R), prefix(R * R), prefix(R * m[:, None]), prefix(m), prefix(m * m)
    a, b = day0 + EST[0], day0 + EST[1] + 1
    n = (b - a)[:, None].astype(float)
    sy, syy, sxy = Sy[b] - Sy[a], Syy[b] - Syy[a], Sxy[b] - Sxy[a]
    sx, sxx = (Sx[b] - Sx[a])[:, None], (Sxx[b] - Sxx[a])[:, None]
    cxx, cxy, cyy = sxx - sx * sx / n, sxy - sx * sy / n, syy - sy * sy / n
    beta = cxy / cxx
    alpha = (sy - beta * sx) / n
    s2 = (cyy - beta * cxy) / (n - 2)
    ev = day0[:, None] + np.arange(EVW[0], EVW[1] + 1)[None, :]
    car = (R[ev] - alpha[:, None, :] - beta[:, None, :] * m[ev][:, :, None]).sum(axis=1)
    W = EVW[1] - EVW[0] + 1
    se = np.sqrt(s2 * (W + W * W / n + (m[ev].sum(axis=1)[:, None] - W * sx / n) ** 2 / cxx))
    return car / se


def numpy_stacked(frame: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """The same market model on stacked rows (asset after asset, each with the market beside it),
    the layout an engine needs when every asset may have its own calendar. Returns CAR (N, E)."""
    R = frame.drop(columns="MKT").to_numpy()
    m = frame["MKT"].to_numpy()
    T, N = R.shape
    y, x = R.T.reshape(-1), np.tile(m, N)
    day0 = frame.index.get_indexer(pd.DatetimeIndex(events["date"]))
    pos = (np.arange(N)[:, None] * T + day0[None, :]).reshape(-1)

    def prefix(v):
        out = np.zeros(len(v) + 1)
        np.cumsum(v, out=out[1:])
        return out

    a, b = pos + EST[0], pos + EST[1] + 1
    n = float(EST[1] - EST[0] + 1)
    sy, sx, sxy, sxx, syy = (c[b] - c[a] for c in map(prefix, (y, x, x * y, x * x, y * y)))
    cxx, cxy, cyy = sxx - sx * sx / n, sxy - sx * sy / n, syy - sy * sy / n
    beta = cxy / cxx
    alpha = (sy - beta * sx) / n
    s2 = (cyy - beta * cxy) / (n - 2)
    ev = pos[:, None] + np.arange(EVW[0], EVW[1] + 1)[None, :]
    car = (y[ev] - alpha[:, None] - beta[:, None] * x[ev]).sum(axis=1)
    W = EVW[1] - EVW[0] + 1
    se = np.sqrt(s2 * (W + W * W / n + (x[ev].sum(axis=1) - W * sx / n) ** 2 / cxx))
    return (car / se).reshape(N, -1)


def run_b(n_assets: int = 10_000, n_events: int = 100, rounds: int = 6) -> tuple[float, float]:
    """(b): the engine's fit + CAR + CAAR, engine "auto" (the prefix-sum fit at this size) and
    "windows", against the two numpy baselines, alternated ``rounds`` times in this one process:
    the first round pays for fresh memory (page faults), the later ones reuse it (their median
    is reported: one warm round on a shared 2-core VM varies by +-10%)."""
    frame, events = synthetic_panel(n_assets, n_events, seed=2)
    seconds: dict[str, list[float]] = {"numpy, stacked rows": [], "numpy, wide matrix": [], "auto": [], "windows": []}
    z: dict[str, np.ndarray] = {}
    fit_seconds: dict[str, list[float]] = {"auto": [], "windows": []}
    for _ in range(rounds):
        for name in seconds:
            t0 = time.perf_counter()
            if name.startswith("numpy"):
                z[name] = (numpy_stacked if "stacked" in name else numpy_wide)(frame, events)
            else:
                result = study(frame, events, name).fit()
                fit_seconds[name].append(time.perf_counter() - t0)
                car = result.car(EVW)
                result.caar(EVW)
            seconds[name].append(time.perf_counter() - t0)
            if not name.startswith("numpy"):  # the baselines' (assets x dates) layout, for the comparison only
                z[name] = car.pivot(index="asset", columns="event_id", values="t").to_numpy()
                del result, car
    # The baselines compute the same numbers as the engine (CAR t statistics, CLM variance).
    worst = max(np.nanmax(np.abs((z[k].T if "wide" in k else z[k]) - z["auto"])) for k in z if k != "auto")
    pairs = n_assets * n_events
    warm = {name: float(np.median(runs[1:])) for name, runs in seconds.items()}
    print(f"(b) SYNTHETIC {pairs:,} asset-events ({n_assets:,} assets x {n_events} dates): fit + CAR + CAAR, "
          f"first round (fresh memory) / median of rounds 2-{rounds} [each warm round], seconds:")
    for name, runs in seconds.items():
        label = f"engine={name!r}" if not name.startswith("numpy") else name + " baseline"
        fit = f" (fit alone {np.median(fit_seconds[name][1:]):.2f} s warm)" if name in fit_seconds else ""
        each = ", ".join(f"{v:.2f}" for v in runs[1:])
        print(f"    {label:<34} {runs[0]:6.2f} / {warm[name]:6.2f} [{each}]{fit}")
    for base in ("numpy, stacked rows", "numpy, wide matrix"):
        print(f"    engine='auto' / {base} baseline: {seconds['auto'][0] / seconds[base][0]:.2f}x first round, "
              f"{warm['auto'] / warm[base]:.2f}x warm (medians) (target <= 1.5x; <= 3 s)")
    print(f"    largest difference of the CAR t statistics, engine vs baselines: {worst:.1e}; peak RSS of this "
          f"process {peak_rss_gb():.2f} GB (target < 4 GB); overlap screening inside fit: "
          f"{screening_seconds(study(frame, events)):.2f} s")
    return seconds["auto"][0], seconds["windows"][0]


def run_c(n_pairs_total: int, engine_seconds: float, sample: int = 2_000, screening: float = 0.0) -> None:
    """Per-pair statsmodels loop (fit + AR + CAR with the CLM variance) on ``sample`` pairs."""
    import statsmodels.api as sm

    frame, events = synthetic_panel(20, sample // 20, seed=3)
    m = frame["MKT"].to_numpy()
    pos0 = frame.index.get_indexer(pd.DatetimeIndex(events["date"]))
    t0 = time.perf_counter()
    done = 0
    for asset in frame.columns[:-1]:
        r = frame[asset].to_numpy()
        for p in pos0:
            y, x = r[p + EST[0]: p + EST[1] + 1], m[p + EST[0]: p + EST[1] + 1]
            fit = sm.OLS(y, sm.add_constant(x)).fit()
            xe = m[p + EVW[0]: p + EVW[1] + 1]
            ar = r[p + EVW[0]: p + EVW[1] + 1] - fit.predict(sm.add_constant(xe))
            g = np.array([len(xe), xe.sum()])
            var = fit.mse_resid * len(xe) + g @ fit.cov_params() @ g  # CLM eq. 4.4.14
            _ = ar.sum() / np.sqrt(var)
            done += 1
    per_pair = (time.perf_counter() - t0) / done
    LOOP_MS[0] = per_pair * 1e3
    loop_total = per_pair * n_pairs_total
    print(f"(c) lean statsmodels loop (numpy slices, sm.OLS): {per_pair * 1e3:.3f} ms/pair measured on {done:,} "
          f"SYNTHETIC pairs, EXTRAPOLATED to {n_pairs_total:,} pairs = {loop_total:,.0f} s; "
          f"engine {engine_seconds:.2f} s -> speed ratio {loop_total / engine_seconds:,.1f}x (target >= 100x)")
    if screening:
        rest = engine_seconds - screening
        print(f"    same loop vs the engine without the overlap screening ({rest:.1f} s; the loop does no "
              f"screening either): {loop_total / rest:,.1f}x")
    # The loop as usually written: date-indexed pandas slices per pair, DataFrame OLS.
    t0 = time.perf_counter()
    done = 0
    for asset in frame.columns[:-1]:
        for day0 in events["date"].iloc[: max(1, sample // 200)]:
            p = frame.index.get_loc(day0)
            window = frame.iloc[p + EST[0]: p + EST[1] + 1][[asset, "MKT"]].dropna()
            fit = sm.OLS(window[asset], sm.add_constant(window["MKT"])).fit()
            ev = frame.iloc[p + EVW[0]: p + EVW[1] + 1]
            ar = ev[asset] - fit.params["const"] - fit.params["MKT"] * ev["MKT"]
            g = np.array([len(ev), ev["MKT"].sum()])
            _ = ar.sum() / np.sqrt(fit.mse_resid * len(ev) + g @ fit.cov_params().to_numpy() @ g)
            done += 1
    per_pair2 = (time.perf_counter() - t0) / done
    print(f"    pandas-style statsmodels loop: {per_pair2 * 1e3:.3f} ms/pair on {done:,} SYNTHETIC pairs, "
          f"EXTRAPOLATED {per_pair2 * n_pairs_total:,.0f} s -> ratio {per_pair2 * n_pairs_total / engine_seconds:,.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip (b); (c) is then compared with (a)")
    parser.add_argument("--cold", action="store_true", help="do not warm the machine's memory first")
    args = parser.parse_args(argv)
    if not args.cold:
        print(warm_memory())
    print(f"impact engine benchmarks (python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"chunk_size {EventStudy.chunk_size}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    a = run_a()
    if args.quick:
        run_c(10_000, a)
        return 0
    b, b_windows = run_b()
    run_c(1_000_000, b)
    print(f"    with engine='windows' ({b_windows:.2f} s): ratio {1_000_000 * LOOP_MS[0] / 1e3 / b_windows:,.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
