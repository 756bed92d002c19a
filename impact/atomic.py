"""Write an output folder all at once: build it beside the target, rename it into place.

Layout inside ``out_root`` while ``<name>`` is being (re)written:

* ``.<name>-<pid>-<random>/`` -- the build folder of process ``pid``. The file
  :data:`MARKER` is written into it last, so a build holding it is complete.
* ``.<name>-old-<pid>/`` -- the previous ``<name>``, moved aside for the swap.

The swap is two renames (``<name>`` -> ``.<name>-old-<pid>``, build -> ``<name>``).
A process killed by SIGKILL (or a power cut) can leave any of these behind, even
between the two renames, when ``<name>`` is missing. The next :func:`atomic_folder`
for the same name calls :func:`recover`, which finishes or undoes such a swap and
removes the leftovers of dead processes; folders of live processes are never touched.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, os_error_reason

#: Written last into a build folder: the build is complete. Removed once the folder is in place.
MARKER = ".impact-complete"

#: Build folders of this process that are in use (a same-pid leftover not in here is stale).
_ACTIVE: set[Path] = set()


@dataclass(frozen=True)
class Leftover:
    """A hidden folder of an interrupted write: a ``build`` or an ``old`` (moved-aside) folder."""

    path: Path
    kind: str
    pid: int
    complete: bool = False  # builds only: MARKER present
    mtime: float = 0.0


def parse_leftover(name: str, entry: str) -> tuple[str, int] | None:
    """``(kind, pid)`` when ``entry`` is a build or old folder of ``name``, else None.

    ``.rep-123-ab_c9`` is a build of ``rep`` by pid 123, ``.rep-old-123`` its old folder;
    the random part of a build has no '-', so ``.rep-x-1-ab`` belongs to ``rep-x`` only.
    """
    prefix = f".{name}-"
    if not entry.startswith(prefix):
        return None
    rest = entry[len(prefix):]
    if m := re.fullmatch(r"old-(\d+)", rest):
        return "old", int(m.group(1))
    if m := re.fullmatch(r"(\d+)-[a-z0-9_]+", rest):
        return "build", int(m.group(1))
    return None


def recovery_plan(final: Path, final_exists: bool, stale: list[Leftover]) -> list[tuple[str, Path, Path | None]]:
    """Steps (``("rename", src, dst)`` or ``("remove", path, None)``) that repair an
    interrupted write, given the leftovers of dead processes. Pure: no file is touched.

    If ``<name>`` is missing, the swap that moved it aside is finished when its complete
    build survives, else the old folder is put back; with no old folder a complete build
    (a first write killed before its rename) becomes ``<name>``. Everything else goes.
    """
    steps: list[tuple[str, Path, Path | None]] = []
    keep: Leftover | None = None
    if not final_exists:
        newest = sorted(stale, key=lambda x: x.mtime, reverse=True)
        olds = [x for x in newest if x.kind == "old"]
        builds = [x for x in newest if x.kind == "build" and x.complete]
        swapping = {o.pid for o in olds}
        keep = (next((b for b in builds if b.pid in swapping), None)
                or (olds[0] if olds else None) or (builds[0] if builds else None))
    for item in stale:
        if item is not keep:
            steps.append(("remove", item.path, None))
    if keep is not None:
        steps.append(("rename", keep.path, final))
    return steps


def _alive(pid: int, path: Path) -> bool:
    """Whether the process that owns a leftover may still be using it."""
    if pid == os.getpid():
        return path in _ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    try:  # a killed child not yet reaped by its parent is a zombie: dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _stale_leftovers(out_root: Path, name: str) -> list[Leftover]:
    found = []
    with os.scandir(out_root) as entries:
        listing = list(entries)
    for entry in listing:
        parsed = parse_leftover(name, entry.name)
        if parsed is None or not entry.is_dir(follow_symlinks=False):
            continue
        kind, pid = parsed
        path = Path(entry.path)
        if not _alive(pid, path):
            found.append(Leftover(path, kind, pid, kind == "build" and (path / MARKER).is_file(),
                                  entry.stat(follow_symlinks=False).st_mtime))
    return found


def recover(out_root: str | Path, name: str) -> list[tuple[str, Path, Path | None]]:
    """Repair what killed writes of ``out_root/name`` left behind; returns the steps taken."""
    out_root = Path(out_root)
    final = out_root / name
    if not out_root.is_dir():
        return []
    steps = recovery_plan(final, final.exists(), _stale_leftovers(out_root, name))
    for op, src, dst in steps:
        if op == "rename" and dst is not None:
            os.replace(src, dst)
        else:
            shutil.rmtree(src, ignore_errors=True)
    if final.is_dir():  # a build renamed into place keeps its marker until the end of the swap
        (final / MARKER).unlink(missing_ok=True)
    return steps


@contextmanager
def atomic_folder(out_root: str | Path, name: str) -> Iterator[Path]:
    """Yield a temporary folder in ``out_root``; on success it replaces ``out_root/name``.

    On any error (or KeyboardInterrupt) the temporary folder is removed and a previous
    ``out_root/name`` is left untouched, so a failed run never leaves a half-written
    report. An OSError (disk full, read-only folder, ``out_root`` is a file) becomes an
    :class:`OutputError` naming the folder and the fix. Leftovers of killed runs are
    repaired first (:func:`recover`). One writer per ``out_root/name`` at a time.
    """
    out_root = Path(out_root)
    final = out_root / name
    old = out_root / f".{name}-old-{os.getpid()}"
    try:
        if out_root.exists() and not out_root.is_dir():
            raise OutputError(f"cannot write {final}: {out_root} is a file, not a folder: "
                              "remove it or choose another output folder")
        out_root.mkdir(parents=True, exist_ok=True)
        recover(out_root, name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-{os.getpid()}-", dir=out_root))
    except OSError as exc:
        raise _output_error(final, exc) from None
    _ACTIVE.add(tmp)
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a report folder is meant to be shared
        yield tmp
        (tmp / MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
    except BaseException as exc:
        # A signal turned exception can land between the two renames: put the old one back.
        if old.exists() and not final.exists():
            os.replace(old, final)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _output_error(final, exc) from None
        raise
    finally:
        _ACTIVE.discard(tmp)
    shutil.rmtree(old, ignore_errors=True)
    (final / MARKER).unlink(missing_ok=True)


def _output_error(final: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {final} (nothing was changed there): {os_error_reason(exc)}")
