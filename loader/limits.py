"""What one file may cost the loader: the resource limits every reader checks.

A loader reads what strangers write, so each way a file can make it work without bound
(unpacking, long lines, huge cells, sheets that declare billions of cells, endless rows) has
a limit here, with a default that fits real sales files many times over. A file over a
limit is rejected with a reason that names the limit and the variable that raises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Limits:
    # .csv.gz / .zip: bytes written when unpacking (a 10M-row CSV is about 2.5 GB).
    unpacked_bytes: int = 4 * GIB
    # Data rows in one file.
    rows: int = 20_000_000
    # .xlsx: cells of the first sheet (its declared dimension, rows x columns).
    sheet_cells: int = 6_000_000
    # One field (a CSV value or a sheet cell, shared strings included), in bytes.
    field_bytes: int = 64 * 1024
    # One line of a CSV file, in bytes.
    record_bytes: int = 1 * MIB
    # Address space of the process that reads an .xlsx (the sheet reader allocates what a
    # sheet declares, and an allocation failure aborts its process, not the loader).
    reader_memory_bytes: int = 2 * GIB

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            unpacked_bytes=settings.LOADER_MAX_UNPACKED_BYTES,
            rows=settings.LOADER_MAX_ROWS,
            sheet_cells=settings.LOADER_MAX_SHEET_CELLS,
            field_bytes=settings.LOADER_MAX_FIELD_BYTES,
            record_bytes=settings.LOADER_MAX_RECORD_BYTES,
            reader_memory_bytes=settings.LOADER_MAX_READER_MEMORY_BYTES,
        )


DEFAULT_LIMITS = Limits()


def over(what: str, value: int, unit: str, limit: int, variable: str) -> str:
    """One reason line: what went over, by how much, and the variable that raises it, e.g.
    "line 3 holds 5,000 bytes, over the limit of 1,000 (LOADER_MAX_RECORD_BYTES)"."""
    return f"{what} {value:,} {unit}, over the limit of {limit:,} ({variable})"
