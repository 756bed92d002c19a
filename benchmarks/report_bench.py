"""Report timings on the real bundled sample: ``python benchmarks/report_bench.py [SPEC ...]``.

For each bundled spec (default: all three) measures, wall clock, one run each: the study
(``run_spec``), then the whole report (``write_report``: tables, battery, placebo,
quality, every figure in PNG and SVG, HTML), and reports the figure share and the
report's size on disk. Output goes to a temporary folder that is removed afterwards.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from impact.report.build import run_spec, write_report
from impact.report.spec import available_specs, load_spec


def main(names: list[str]) -> None:
    print(f"{'spec':<22}{'pairs':>7}{'study s':>9}{'report s':>10}{'figures':>9}{'MB':>7}")
    for name in names or available_specs():
        spec = load_spec(name)
        t0 = time.perf_counter()
        result = run_spec(spec)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            folder = write_report(spec, tmp, result=result).folder
            t2 = time.perf_counter()
            figures = len(list((folder / "figures").glob("*.png")))
            size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1e6
        print(f"{name:<22}{len(result.pairs):>7}{t1 - t0:>9.1f}{t2 - t1:>10.1f}{figures:>9}{size:>7.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
