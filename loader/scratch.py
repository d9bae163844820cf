"""The loader's scratch space: one directory per process under one root.

Downloads and unpacked archives can be gigabytes, so they must not outlive the file they
belong to. Each loader process works in `<root>/<pid>/`, removes what a file left once it
is done, and on start removes the directories of processes that are no longer running
(killed processes leave theirs behind). Root: `LOADER_SCRATCH_DIR`, else the system's
temporary directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from salespipe.logs import get_logger

log = get_logger("loader.scratch")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def open_scratch(root: str | None) -> Path:
    """This process's own scratch directory, empty, after sweeping dead processes' ones."""
    base = Path(root) if root else Path(tempfile.gettempdir()) / "salespipe-loader"
    base.mkdir(parents=True, exist_ok=True)
    for leftover in base.iterdir():
        if leftover.name.isdigit() and leftover.is_dir() and (
                int(leftover.name) == os.getpid() or not _alive(int(leftover.name))):
            freed = sum(f.stat().st_size for f in leftover.rglob("*") if f.is_file())
            shutil.rmtree(leftover, ignore_errors=True)
            log.info("scratch_swept", dir=leftover, bytes=freed)
    own = base / str(os.getpid())
    own.mkdir()
    return own


def clear(directory: Path) -> None:
    """Remove what one file left behind (the directory itself stays)."""
    for leftover in directory.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def close(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
