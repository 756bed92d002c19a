"""The two README commands' main paths, run in-process."""
from __future__ import annotations

import io
import re

import pandas as pd

from impact.cli.main import main


def test_report_writes_html_figures_and_tables(tmp_path):
    assert main(["report", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "default"
    html = (folder / "index.html").read_text(encoding="utf-8")
    for image in ("figures/caar_path.png", "figures/heatmap_day0.png"):
        assert f'src="{image}"' in html
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cars = pd.read_csv(folder / "tables" / "car_-1_1.csv")
    assert {"event_id", "asset", "car", "se", "t", "p_value"} <= set(cars.columns)
    assert len(cars) > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_study_csv(capsys):
    assert main(["study", "--format", "csv", "--window", "0,0"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert (frame["window"] == "[0,0]").all()
    soxx = frame[(frame["event_id"] == "USCN-2025-22") & (frame["asset"] == "SOXX")].iloc[0]
    assert soxx["car"] < -0.01  # semiconductors fell more than their beta implies on 2025-10-10


def test_study_table(capsys):
    assert main(["study"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"pairs estimated: \d+\s+excluded: \d+", out)
    assert "CAAR [-1, 1] by asset" in out
