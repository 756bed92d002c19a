"""A non-editable install carries the catalog, the report specs and the sample data."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_data_and_runs_offline(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = wheels.glob("impact-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("impact/_bundled/events/us_china_trade_policy.csv", "impact/_bundled/reports/default.yaml",
                   "impact/data/sample_data/prices.parquet", "impact/data/sample_data/ff3_daily.parquet",
                   "impact/data/sample_data/SOURCES.md", "impact/data/sample_data/assets.csv",
                   "impact/report/templates/report.html.j2", "impact/_bundled/backtests/soybeans_retaliation.yaml"):
        assert needed in names, needed

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = (
        "import impact, sys\n"
        "from impact.cli.main import main\n"
        "print(impact.__file__)\n"
        "assert main(['backtest', 'soybeans_retaliation', '--format', 'csv']) == 0\n"
        "sys.exit(main(['report', '--out', 'out']))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    done = subprocess.run([sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(str(site))
    assert (work / "out" / "default" / "index.html").is_file()
    assert (work / "out" / "default" / "figures" / "heatmap_day0.png").is_file()
