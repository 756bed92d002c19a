"""Size of the wild cluster bootstrap-t of the CAAR under the null: run
``python benchmarks/bootstrap_size.py`` (writes benchmarks/BOOTSTRAP_SIZE.md).

All data are SYNTHETIC null CARs with no effect: n_dates event dates, per_date assets
on each, car_ig = u_g + e_ig with a date shock u_g ~ N(0, rho) common to the assets of
the date and e_ig ~ N(0, 1 - rho) (intra-date correlation rho). Every sample is tested
at 5% with the bootstrap of :mod:`impact.inference.bootstrap` (199 draws, the p-value
(1 + #{|t*| >= |t|}) / (1 + B)), clustered by date and per pair, and with the
cross-sectional t of Brown & Warner (1985, Student t with N - 1 df) for reference.

The first row is exactly the sample of tests/test_bootstrap.py
(``test_size_of_the_date_clustered_bootstrap_is_near_nominal``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from impact.inference.bootstrap import bootstrap_p_values

OUT = Path(__file__).with_name("BOOTSTRAP_SIZE.md")
#: (n_sims, n_dates, per_date, rho, seed): the test's sample first, then wider settings.
SETTINGS = [(500, 10, 20, 0.5, 2026), (2000, 10, 20, 0.5, 1), (2000, 20, 10, 0.5, 2), (2000, 5, 40, 0.5, 3),
            (2000, 10, 20, 0.2, 4), (2000, 10, 20, 0.0, 5)]
DRAWS = 199


def null_cars(n_sims: int, n_dates: int, per_date: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC null CARs (n_sims, N) and the date of every pair (N,); rho = 0.5 gives the
    unit-variance shocks of tests/test_bootstrap.py (there u ~ N(0, 1), e ~ N(0, 1))."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(n_dates), per_date)
    if rho == 0.5:  # the test's parameterisation, draw for draw
        return rng.normal(0, 1, (n_sims, n_dates))[:, codes] + rng.normal(0, 1, (n_sims, len(codes))), codes
    u = rng.normal(0, np.sqrt(rho), (n_sims, n_dates))[:, codes]
    return u + rng.normal(0, np.sqrt(1 - rho), (n_sims, len(codes))), codes


def rejection_rates(n_sims: int, n_dates: int, per_date: int, rho: float, seed: int) -> dict[str, float]:
    cars, codes = null_cars(n_sims, n_dates, per_date, rho, seed)
    out = {}
    for weights in ("rademacher", "mammen"):
        _, _, p_date = bootstrap_p_values(cars, codes, draws=DRAWS, seed=1, weights=weights)
        _, _, p_pair = bootstrap_p_values(cars, np.arange(len(codes)), draws=DRAWS, seed=1, weights=weights)
        out[f"date {weights}"] = float(np.mean(p_date <= 0.05))
        out[f"pair {weights}"] = float(np.mean(p_pair <= 0.05))
    n = cars.shape[1]
    t_cs = cars.mean(axis=1) / (cars.std(axis=1, ddof=1) / np.sqrt(n))
    out["cross-sectional t"] = float(np.mean(2 * stats.t.sf(np.abs(t_cs), n - 1) <= 0.05))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only, do not write BOOTSTRAP_SIZE.md")
    args = parser.parse_args(argv)
    lines = [f"impact wild cluster bootstrap size, SYNTHETIC null CARs, {DRAWS} draws per sample, 5% test "
             f"(python {sys.version.split()[0]}, numpy {np.__version__}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
             "", "| samples | dates x assets | rho | date Rademacher | date Mammen | pair Rademacher | pair Mammen "
             "| cross-sectional t |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n_sims, n_dates, per_date, rho, seed in SETTINGS:
        r = rejection_rates(n_sims, n_dates, per_date, rho, seed)
        se = np.sqrt(0.05 * 0.95 / n_sims)
        lines.append(f"| {n_sims:,} (MC s.e. {se:.3f}) | {n_dates} x {per_date} | {rho:.1f} | {r['date rademacher']:.3f} "
                     f"| {r['date mammen']:.3f} | {r['pair rademacher']:.3f} | {r['pair mammen']:.3f} "
                     f"| {r['cross-sectional t']:.3f} |")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        OUT.write_text(
            "# Size of the wild cluster bootstrap (SYNTHETIC data)\n\n"
            "Measured with `python benchmarks/bootstrap_size.py`; rejection rates at 5% under the null over SYNTHETIC "
            "samples of CARs with a date shock common to the assets of each event date (intra-date correlation "
            "rho), no effect. `date`: clusters = day-0 dates (`result.bootstrap()`, the default); `pair`: each "
            "pair its own cluster (`cluster=\"pair\"`, the per-pair bootstrap of peers); cross-sectional t: "
            "Brown & Warner (1985). The first row is the sample of "
            "`tests/test_bootstrap.py::test_size_of_the_date_clustered_bootstrap_is_near_nominal` "
            "(which asserts date Rademacher in [0.02, 0.09] and pair > 0.3).\n\n"
            f"{text}\n\n"
            "Reading: with same-date correlation the per-pair bootstrap and the cross-sectional t reject a true "
            "null far more often than 5% (they treat the assets of one date as independent evidence); the "
            "date-clustered bootstrap with Rademacher weights (the default) stays near 5%, down to 5 dates (only "
            "2^5 = 32 sign patterns there, so its p-values are coarse). Mammen weights over-reject with 5-10 "
            "clusters (also with rho = 0) and are close to 5% with 20, as Davidson & Flachaire (2008) found for "
            "the wild bootstrap: prefer Rademacher. With rho = 0 the per-pair tests are near 5% too.\n",
            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
