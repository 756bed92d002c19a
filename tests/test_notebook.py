"""The example notebook runs top to bottom in a real IPython kernel (nbclient + ipykernel)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel nbclient starts; test extra, so a plain import)
import nbclient
import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "us_china_trade_war.ipynb"


def test_example_notebook_runs_without_error(tmp_path, monkeypatch):
    # A kernelspec for *this* interpreter (the one with impact installed), so no other
    # "python3" kernel registered on the machine can be picked up instead.
    spec_dir = tmp_path / "jupyter" / "kernels" / "impact-test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "impact test kernel", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="impact-test",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "text/html" in kinds       # the result's _repr_html_ and DataFrames
    assert "image/png" in kinds       # the plot methods' Figures, shown inline
    html = "".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    assert "<b>Event study</b>" in html and "Largest CARs" in html
    text = "".join(o.get("text", "") for o in outputs)
    assert "CAAR[-1, 1]" in text            # summary()
    assert "Sign-aligned mean abnormal log return" in text   # the report's headline findings
    assert "heatmap_day0.png" in "".join(o["data"].get("text/plain", "") for o in outputs if "data" in o)
