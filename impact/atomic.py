"""Write an output folder all at once: build it beside the target, rename it into place."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_folder(out_root: str | Path, name: str) -> Iterator[Path]:
    """Yield a temporary folder in ``out_root``; on success it replaces ``out_root/name``.

    On any error the temporary folder is removed and a previous ``out_root/name`` is
    left untouched, so a failed run never leaves a half-written report.
    """
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / name
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_root))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; a report folder is meant to be shared
    try:
        yield tmp
        if final.exists():
            old = out_root / f".{name}-old-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
