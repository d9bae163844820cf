"""The first sheet of an .xlsx as Arrow text columns, read in a child process of its own.

The sheet reader (fastexcel, calamine in Rust) allocates what a sheet declares: a 2 KB file
with one cell at XFD1048576 asks for 512 GiB, a shared string repeated over thousands of
cells is copied into each. A failed allocation in Rust aborts the process, which Python
cannot catch, so the read runs in a child whose address space is capped
(`Limits.reader_memory_bytes`): an abort ends the child and rejects the file, and the loader
goes on. Cheap checks of what the workbook declares (member sizes, the sheet's dimension,
shared-string sizes) run first in the loader, so most hostile workbooks are refused with a
precise reason without starting the child. The child costs about 0.3 s per workbook, next
to the seconds a sheet takes to read.

Run as `python -m loader.sheet_reader IN.xlsx OUT.arrow MEMORY_BYTES`.
"""

from __future__ import annotations

import re
import resource
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa

from loader.limits import Limits, over
from loader.parse import FileRejected

_REJECT_EXIT = 3
_SHEET_HEAD = 64 << 10
# Workbook parts that only name things; a real one is a few KB.
_SMALL_PART = 4 << 20


def read_first_sheet(path: Path, limits: Limits) -> pa.Table:
    """The first sheet's cells as text (no header row taken), or FileRejected."""
    check_declared(path, limits)
    out = path.with_name(path.name + ".arrow")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "loader.sheet_reader", str(path), str(out),
             str(limits.reader_memory_bytes)],
            capture_output=True, text=True, errors="replace", check=False,
            env={"ARROW_DEFAULT_MEMORY_POOL": "system", "RUST_BACKTRACE": "0",
                 "PYTHONPATH": ":".join(sys.path)},
        )
        if proc.returncode == _REJECT_EXIT:
            raise FileRejected(proc.stderr.strip().splitlines()[-1][:500])
        if proc.returncode != 0:
            raise FileRejected(_crash_reason(proc.returncode, proc.stderr, limits))
        with pa.memory_map(str(out)) as source:
            table = pa.ipc.open_file(source).read_all()
    finally:
        out.unlink(missing_ok=True)
    cells = table.num_rows * table.num_columns
    if cells > limits.sheet_cells:
        raise FileRejected(over("xlsx: the first sheet holds", cells, "cells", limits.sheet_cells,
                                "LOADER_MAX_SHEET_CELLS"))
    return table


def _crash_reason(code: int, stderr: str, limits: Limits) -> str:
    if code < 0:
        how = f"was stopped by signal {signal.Signals(-code).name}"
    else:
        how = f"exited with code {code}"
    memory = "memory allocation" in stderr or "MemoryError" in stderr or code == -signal.SIGABRT
    cause = (f" (it ran out of its {limits.reader_memory_bytes:,}-byte memory limit, "
             "LOADER_MAX_READER_MEMORY_BYTES)") if memory else ""
    return f"xlsx: the sheet reader {how}{cause}: the workbook cannot be read safely"


def check_declared(path: Path, limits: Limits) -> None:
    """Refuse a workbook on what it declares, before anything reads its cells."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > limits.unpacked_bytes:
                raise FileRejected(over("xlsx: the workbook's parts declare", declared, "bytes",
                                        limits.unpacked_bytes, "LOADER_MAX_UNPACKED_BYTES"))
            names = {i.filename: i for i in infos}
            sheet = _first_sheet_part(zf, names)
            if sheet is not None:
                _check_dimension(zf, sheet, limits)
            if "xl/sharedStrings.xml" in names:
                _check_shared_strings(zf, limits)
    except zipfile.BadZipFile as exc:
        raise FileRejected(f"not a readable xlsx workbook: {exc}") from exc
    except (NotImplementedError, EOFError, OSError) as exc:
        raise FileRejected(f"not a readable xlsx workbook: {exc}") from exc


def _small(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], name: str) -> bytes | None:
    info = names.get(name)
    if info is None or info.file_size > _SMALL_PART:
        return None
    return zf.read(info)


def _first_sheet_part(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> str | None:
    workbook = _small(zf, names, "xl/workbook.xml")
    rels = _small(zf, names, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return None
    sheet = re.search(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    if sheet is None:
        return None
    for rel in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid = re.search(rb"\bId=\"([^\"]+)\"", rel.group(0))
        target = re.search(rb"\bTarget=\"([^\"]+)\"", rel.group(0))
        if rid and target and rid.group(1) == sheet.group(1):
            t = target.group(1).decode("utf-8", "replace")
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    return None


def _cell(ref: bytes) -> tuple[int, int]:
    m = re.fullmatch(rb"\$?([A-Z]{1,3})\$?([0-9]{1,7})", ref)
    if m is None:
        return 1, 1
    col = 0
    for ch in m.group(1):
        col = col * 26 + ch - 64
    return int(m.group(2)), col


def _check_dimension(zf: zipfile.ZipFile, sheet: str, limits: Limits) -> None:
    try:
        with zf.open(sheet) as fh:
            head = fh.read(_SHEET_HEAD)
    except KeyError:
        return
    dim = re.search(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"([^\"]+)\"", head)
    if dim is None:
        return  # the child's memory limit and the cell count after reading still apply
    first, _, last = dim.group(1).partition(b":")
    (r1, c1), (r2, c2) = _cell(first), _cell(last or first)
    cells = (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
    if cells > limits.sheet_cells:
        ref = dim.group(1).decode("ascii", "replace")
        raise FileRejected(over(f"xlsx: the first sheet declares ({ref})", cells, "cells",
                                limits.sheet_cells, "LOADER_MAX_SHEET_CELLS"))


def _check_shared_strings(zf: zipfile.ZipFile, limits: Limits) -> None:
    """A shared string longer than a field may be is refused before it can be copied into
    every cell that uses it. Streams the part: memory stays one block plus one string."""
    tail = b""
    with zf.open("xl/sharedStrings.xml") as fh:
        while block := fh.read(1 << 20):
            text = tail + block
            last = text.rfind(b"<")
            cut = last if last >= 0 else len(text)
            pieces = re.split(rb"<[^>]*>", text[:cut])
            longest = max((len(p) for p in pieces), default=0)
            if longest > limits.field_bytes or cut == 0 and len(text) > limits.field_bytes:
                raise FileRejected(over("xlsx: a shared string holds at least",
                                        max(longest, len(text)), "bytes", limits.field_bytes,
                                        "LOADER_MAX_FIELD_BYTES"))
            tail = text[cut:]


def _child(src: str, dst: str, memory: int) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    import fastexcel

    try:
        workbook = fastexcel.read_excel(src)
        if not workbook.sheet_names:
            print("xlsx workbook has no sheet", file=sys.stderr)
            return _REJECT_EXIT
        table = workbook.load_sheet(0, header_row=None, dtypes="string").to_arrow()
    except fastexcel.FastExcelError as exc:
        text = str(exc).strip()
        line = text.splitlines()[0] if text else type(exc).__name__
        print(f"not a readable xlsx workbook: {line}", file=sys.stderr)
        return _REJECT_EXIT
    with pa.OSFile(dst, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2], int(sys.argv[3])))
