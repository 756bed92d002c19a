"""Touch memory in a separate process before a timed run, so the VM backs it.

This machine is a Firecracker VM whose guest reclaims cold memory (DAMON ``pageout``): memory a
process then touches for the first time is backed by the host on first touch, at ~3 s per GB
(``numpy.ones(200_000_000)`` in a new process: 5.04 s, then 0.17 s in the same process, 0.17-0.71 s
in the next ones). An ordinary Linux machine pays ~0.1 s per GB. The benchmarks that time a
first fit in a fresh process call :func:`warm_memory` first (``--cold`` skips it) and say so in
their output; the timed process's own peak RSS is not changed by it.
"""
from __future__ import annotations

import subprocess
import sys
import time

TOUCH = "import numpy as np, sys; a = np.ones(int(float(sys.argv[1]) * 2**30 / 8)); del a"


def warm_memory(gb: float = 3.0) -> str:
    """Touch ``gb`` GB in a child process; returns the line the benchmark prints about it."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", TOUCH, str(gb)], check=True)
    return (f"machine memory warmed first: {gb:.1f} GB touched in a separate process in "
            f"{time.perf_counter() - t0:.2f} s (this VM backs fresh memory lazily; benchmarks/warm_memory.py)")
