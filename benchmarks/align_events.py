"""Timing of alignment and contamination on the bundled catalog (not a test).

    python benchmarks/align_events.py

Aligns all 80 catalog events to all 32 bundled assets (2,560 pairs), then finds
overlapping [-5, +5] windows on each asset's calendar, and prints wall times.
"""
from __future__ import annotations

import time

from impact.events.align import align_catalog
from impact.events.assets import get_asset, registry
from impact.events.calendars import get_calendar, sessions
from impact.events.catalog import load_catalog
from impact.events.contamination import contamination


def main() -> None:
    symbols = list(registry().index)
    t0 = time.perf_counter()
    for name in sorted({get_asset(s).calendar for s in symbols}):
        get_calendar(name)
    t1 = time.perf_counter()
    catalog = load_catalog()
    t2 = time.perf_counter()
    pairs = align_catalog(catalog, symbols)
    t3 = time.perf_counter()
    found = contamination(pairs, {s: sessions(get_asset(s)) for s in symbols}, (-5, 5))
    t4 = time.perf_counter()
    print(f"calendars built (first use): {t1 - t0:.2f} s")
    print(f"catalog load+validate ({len(catalog)} events): {t2 - t1:.3f} s")
    print(f"align {len(pairs)} pairs: {t3 - t2:.3f} s")
    print(f"contamination: {t4 - t3:.3f} s ({len(found.overlaps)} overlapping pairs, {len(found.exclusions)} excluded sessions)")


if __name__ == "__main__":
    main()
