#!/usr/bin/env python
"""Execute the example notebooks in place, so the outputs stored in the repository are current.

    python scripts/run_notebooks.py            # every notebook in examples/
    python scripts/run_notebooks.py --check    # execute in memory; fail if stored text outputs differ

A reader on GitHub sees the stored outputs, so they must be what the code prints today.
tests/test_notebook.py runs the ``--check`` comparison on the text outputs (``text/plain``,
streams, errors) and on which kinds of output each cell has; PNG bytes differ between
matplotlib builds, so images are compared by presence only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbclient
import nbformat

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KERNEL = "impact-notebooks"
# what the stored notebooks say they need; the kernel that ran them is a temporary spec
STORED_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def notebooks() -> list[Path]:
    return sorted(EXAMPLES.glob("*.ipynb"))


def execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run ``path`` top to bottom in a fresh kernel of *this* interpreter; return the executed notebook.

    The kernelspec is written to a temporary JUPYTER_PATH so no other "python3" kernel on the
    machine (without impact installed) can be picked up.
    """
    spec_dir = workdir / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "impact notebooks", "language": "python"}), encoding="utf-8")
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = str(workdir / "jupyter")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name=KERNEL, record_timing=False,
                                         resources={"metadata": {"path": str(workdir)}})
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    nb.metadata["kernelspec"] = dict(STORED_KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def text_outputs(nb: nbformat.NotebookNode) -> Iterator[tuple[int, str, str]]:
    """(cell index, output kind, text) for every output, images as their mime type only."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                yield i, f"stream:{out.name}", out.text
            elif out.output_type == "error":
                yield i, "error", f"{out.ename}: {out.evalue}"
            else:
                data = out.get("data", {})
                yield i, "mime", " ".join(sorted(data))
                if "text/plain" in data:
                    yield i, "text/plain", data["text/plain"]


def differences(stored: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> list[str]:
    """Human-readable differences between the stored and freshly executed text outputs."""
    a, b = list(text_outputs(stored)), list(text_outputs(fresh))
    out = [f"cell {x[0]} {x[1]}: stored {x[2][:200]!r} != now {y[2][:200]!r}" for x, y in zip(a, b) if x != y]
    if len(a) != len(b):
        out.append(f"{len(a)} stored outputs, {len(b)} now")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if stored outputs are stale")
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: examples/*.ipynb)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.paths or notebooks():
        with tempfile.TemporaryDirectory() as tmp:
            fresh = execute(path, Path(tmp))
        if args.check:
            diff = differences(nbformat.read(path, as_version=4), fresh)
            print(f"{path.name}: {'stale' if diff else 'current'}")
            for line in diff:
                print(f"  {line}")
            status |= bool(diff)
        else:
            nbformat.write(fresh, path)
            print(f"{path.name}: executed, {sum(1 for _ in text_outputs(fresh))} outputs stored")
    return status


if __name__ == "__main__":
    sys.exit(main())
