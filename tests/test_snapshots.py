"""Golden-file snapshots of the human CLI output at 100 columns (issue 13).

Each case runs the command in a 100-column terminal and compares its output with
``tests/snapshots/<name>.txt`` character for character, so any change in wording, units,
alignment or the numbers themselves shows up in review as a diff of the golden file.
After an intended change: ``IMPACT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py``
and read the diff before committing it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from impact import datasets
from impact.cli.main import main
from impact.data.cache import PriceCache
from impact.data.prices import TIDY_COLUMNS
from impact.data.sources import FrameSource

SNAPSHOTS = Path(__file__).parent / "snapshots"
WIDTH = 100
COMMANDS = {
    "events_list": ["events", "list"],
    "events_list_october_2025": ["events", "list", "--start", "2025-10-09", "--end", "2025-10-30"],
    "study_rare_earths_2025": ["study", "rare_earths_2025", "-q"],
    "study_trade_war_window": ["study", "trade_war_2018_2019", "--window", "-1,1", "-q"],
    "backtest_soybeans_retaliation": ["backtest", "soybeans_retaliation", "-q"],
    "backtest_escalation_pairs": ["backtest", "escalation_pairs", "-q"],
    "backtest_learned_signs": ["backtest", "learned_signs", "-q"],
    "data_list": ["data", "list", "--cache-dir", "{cache}"],
}


def _cache_with_a_bad_file(root: Path) -> None:
    """Three real bundled series written through the cache, fetch time fixed, and one unreadable file."""
    cache = PriceCache(root)
    frame = datasets.load_prices(["SPY", "ZS_F", "WEAT"])[list(TIDY_COLUMNS)]
    got = FrameSource(frame, name="frame").fetch(["SPY", "ZS_F", "WEAT"], "2025-01-01", "2025-03-31")
    for symbol, rows in got.prices.groupby("symbol"):
        cache.write(symbol, rows.reset_index(drop=True),
                    {"symbol": symbol, "source": "frame", "adjustment": "as given", "start": "2025-01-01",
                     "end": "2025-03-31", "fetched_at": "2026-11-30T09:15:00+00:00"})
    (root / "BAD.parquet").write_bytes(b"garbage")


def _normalise(text: str, cache: Path) -> str:
    # parquet sizes depend on the pyarrow build; the cache folder on the machine
    text = text.replace(str(cache), "<cache>")
    return re.sub(r"\d+\.\d KB", "n.n KB", text)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_output_matches_its_snapshot_at_100_columns(name, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    cache = tmp_path / "cache"
    if name == "data_list":
        _cache_with_a_bad_file(cache)
    argv = [a.replace("{cache}", str(cache)) for a in COMMANDS[name]]
    assert main(argv) == 0
    out = _normalise(capsys.readouterr().out, cache)
    too_wide = [line for line in out.splitlines() if len(line) > WIDTH]
    assert not too_wide, f"{len(too_wide)} line(s) wider than {WIDTH} columns, e.g. {too_wide[0]!r}"
    golden = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("IMPACT_UPDATE_SNAPSHOTS") == "1":
        golden.write_text(out, encoding="utf-8")
    assert golden.exists(), f"no snapshot {golden.name}: run with IMPACT_UPDATE_SNAPSHOTS=1 and review it"
    assert out == golden.read_text(encoding="utf-8"), f"`impact {' '.join(argv)}` differs from {golden.name}"
