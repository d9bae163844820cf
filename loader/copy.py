"""Write one file into `raw` in one transaction: manifest row, valid rows (COPY), rejects (COPY).

All values travel as COPY data or bound parameters; identifiers are constants of this module.
"""

from __future__ import annotations

import csv
import json
import queue
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from loader.columns import RAW_SALES_COLUMNS

_REJECTS_COPY = (
    "copy raw.sales_rejected (file_id, key, row_number, raw_values, reasons) from stdin "
    "(format csv)"
)
# Two renderings of the same rows for PostgreSQL's CSV format, where an unquoted empty field
# is NULL. Quoted (pyarrow's default) encloses every string in quotes, so an empty text
# stays apart from NULL. Unquoted is what most chunks can take: no value holds a delimiter,
# a quote or a line break (pyarrow refuses the chunk otherwise) and none is empty text (a
# valid value never is: a blank is rejected or stored NULL, and `_holds_empty_text` checks).
# PostgreSQL parses it with less work per field; see `render_rows`.
_SALES_COPY_CSV = (
    "copy raw.sales (file_id, row_number, " + ", ".join(RAW_SALES_COLUMNS) + ") from stdin "
    "(format csv)"
)
_CSV_QUOTED = pacsv.WriteOptions(include_header=False, batch_size=8192)
_CSV_UNQUOTED = pacsv.WriteOptions(include_header=False, batch_size=8192, quoting_style="none")


class SalesCopier:
    """One COPY per file, fed from a background thread.

    The caller hands over each validated chunk as an Arrow table; the thread renders it as
    CSV (pyarrow, C++, GIL released) and writes it to the server (socket writes release the
    GIL too), while PostgreSQL parses on its own core. So rendering and COPY of chunk N
    overlap validation of chunk N+1 and no row ever becomes a Python object. The caller must
    not use the connection until `close()` returns.
    """

    def __init__(self, conn: psycopg.Connection, file_id: int) -> None:
        self.conn = conn
        self.file_id = file_id
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="copy-sales", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        drained = False
        try:
            with self.conn.cursor() as cur, cur.copy(_SALES_COPY_CSV) as copy:
                while (table := self._queue.get()) is not None:
                    copy.write(render_rows(table, self.file_id))
                drained = True  # the server may still refuse the data when the COPY ends
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            self._error = exc
            while not drained and self._queue.get() is not None:  # unblock until close()
                pass

    def write(self, valid: pa.Table) -> None:
        """Queue one chunk's valid rows (`row_number` + RAW_SALES_COLUMNS, as text)."""
        if valid.num_rows:
            self._queue.put(valid)

    def close(self) -> None:
        """End the COPY (waits for the server); raises what the COPY raised."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def render_rows(table: pa.Table, file_id: int) -> memoryview:
    """COPY data for one chunk of valid rows: `file_id` in front of each row, unquoted when
    the chunk allows it. Measured on a 1,000,000-row file rendered both ways and copied into
    a fresh table like raw.sales (four alternating runs each): unquoted, the server took
    3.3 s instead of 3.6 s (median) and 16 % fewer bytes travel; pyarrow renders it about
    0.2 ms slower per 10,000 rows, plus 0.4 ms for the empty-text check, on the copy thread.
    """
    ids = pa.array(np.full(table.num_rows, file_id, dtype=np.int64))
    keyed = table.add_column(0, "file_id", ids)
    if not _holds_empty_text(table):
        try:
            return _csv(keyed, _CSV_UNQUOTED)
        except pa.ArrowInvalid:
            pass  # a value holds a delimiter, a quote or a line break: quote this chunk
    return _csv(keyed, _CSV_QUOTED)


def _csv(table: pa.Table, options: pacsv.WriteOptions) -> memoryview:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, options)
    return memoryview(sink.getvalue())


def _holds_empty_text(table: pa.Table) -> bool:
    return any(pc.min(pc.binary_length(column)).as_py() == 0
               for column in table.columns if pa.types.is_string(column.type))


@dataclass
class FileRecord:
    """What `raw.files` records about one object version."""

    bucket: str
    key: str
    etag: str
    size: int | None
    modified_at: datetime | None
    received_at: datetime
    status: str = "loaded"
    reason: str | None = None
    rows_valid: int = 0
    rows_rejected: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def rows_total(self) -> int:
        return self.rows_valid + self.rows_rejected


def lock_key(conn: psycopg.Connection, key: str) -> None:
    """Serialize work on one object key across loader processes (released at commit)."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 42))", (key,))


def already_loaded(conn: psycopg.Connection, key: str, etag: str) -> bool:
    row = conn.execute(
        "select status from raw.files where key = %s and etag = %s", (key, etag)
    ).fetchone()
    return row is not None and row[0] == "loaded"


def forget_rejected(conn: psycopg.Connection, key: str, etag: str) -> None:
    """A version rejected before (e.g. before a fix) may be tried again; its old verdict goes."""
    conn.execute(
        "delete from raw.files where key = %s and etag = %s and status = 'rejected'", (key, etag)
    )


def insert_file(conn: psycopg.Connection, rec: FileRecord) -> int:
    row = conn.execute(
        """
        insert into raw.files (bucket, key, etag, size_bytes, object_modified_at, status, reason,
                               rows_total, rows_valid, rows_rejected, encoding, delimiter,
                               extra_columns, timings_ms, received_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning file_id
        """,
        (rec.bucket, rec.key, rec.etag, rec.size, rec.modified_at, rec.status, rec.reason,
         rec.rows_total, rec.rows_valid, rec.rows_rejected, rec.encoding, rec.delimiter,
         rec.extra_columns, json.dumps(rec.timings_ms), rec.received_at),
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_file(conn: psycopg.Connection, file_id: int, rec: FileRecord) -> None:
    conn.execute(
        """
        update raw.files
           set rows_total = %s, rows_valid = %s, rows_rejected = %s, encoding = %s,
               delimiter = %s, extra_columns = %s, timings_ms = %s,
               loaded_at = clock_timestamp()
         where file_id = %s
        """,
        (rec.rows_total, rec.rows_valid, rec.rows_rejected, rec.encoding, rec.delimiter,
         rec.extra_columns, json.dumps(rec.timings_ms), file_id),
    )


class SaleIdHashes:
    """A file's valid sale_ids as 64-bit hashes with their row numbers: 12 bytes a row, so a
    10M-row file costs 120 MB where a dict of the ids themselves cost about 3 GB.

    Equal ids have equal hashes, so when no hash repeats the file has no duplicate (exact,
    the common case, checked with one sort at the end). Rows whose hash repeats are only
    candidates: `move_duplicates` compares their real ids in PostgreSQL.
    """

    def __init__(self) -> None:
        self._hashes: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []

    def add(self, valid: pa.Table) -> None:
        if valid.num_rows:
            import pandas as pd

            ids = valid.column("sale_id").to_numpy(zero_copy_only=False)
            # Same hashes; categorize (the default) first factorizes, which pays only when
            # values repeat. Sale ids do not: 0.9 ms instead of 5.4 ms per 10,000 ids.
            self._hashes.append(pd.util.hash_array(ids, categorize=False))
            self._rows.append(valid.column("row_number").to_numpy().astype(np.int32))

    def candidates(self) -> list[int]:
        """Row numbers whose sale_id hash is shared with another valid row."""
        if not self._hashes:
            return []
        hashes = np.concatenate(self._hashes)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return []
        shared = np.zeros(len(ordered), dtype=bool)
        shared[1:] |= same
        shared[:-1] |= same
        return sorted(np.concatenate(self._rows)[order[shared]].tolist())


def move_duplicates(conn: psycopg.Connection, file_id: int, key: str, rows: list[int]) -> int:
    """Among `rows` (candidates from SaleIdHashes), move every row whose sale_id an earlier
    valid row of the file holds from raw.sales to raw.sales_rejected; returns how many."""
    if not rows:
        return 0
    moved = conn.execute(
        """
        with candidates as (
            select row_number,
                   min(row_number) over (partition by sale_id) as first_row
              from raw.sales
             where file_id = %(file_id)s and row_number = any(%(rows)s)
        ),
        moved as (
            delete from raw.sales s
             using candidates c
             where s.file_id = %(file_id)s
               and s.row_number = c.row_number
               and c.row_number > c.first_row
            returning s.*, c.first_row
        )
        insert into raw.sales_rejected (file_id, key, row_number, raw_values, reasons)
        select file_id, %(key)s, row_number,
               (select jsonb_object_agg(k, v #>> '{}')
                  from jsonb_each(to_jsonb(moved) - 'file_id' - 'row_number' - 'first_row')
                       as e(k, v)),
               array['sale_id: duplicate in file (first at row ' || first_row || ')']
          from moved
        """,
        {"file_id": file_id, "rows": rows, "key": key},
    )
    return moved.rowcount


class RejectSpool:
    """Rejected rows of one file, spooled to a temporary file as COPY CSV while the valid
    rows stream to the server (one connection runs one COPY at a time), then copied in one
    go. Memory stays bounded by one chunk even for a file that is all bad rows."""

    def __init__(self, directory: Path, file_id: int, key: str) -> None:
        self.file_id, self.key, self.count = file_id, key, 0
        self._fh = tempfile.TemporaryFile("w+", dir=directory, encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def add(self, rejects: Iterable[Any]) -> None:
        for r in rejects:
            self._writer.writerow((self.file_id, self.key, r.row_number,
                                   json.dumps(r.values, ensure_ascii=False),
                                   _text_array(r.reasons)))
            self.count += 1

    def copy(self, conn: psycopg.Connection) -> None:
        if not self.count:
            return
        self._fh.seek(0)
        with conn.cursor() as cur, cur.copy(_REJECTS_COPY) as copy:
            while block := self._fh.read(1 << 20):
                copy.write(block)

    def close(self) -> None:
        self._fh.close()


def _text_array(items: Iterable[str]) -> str:
    """A PostgreSQL text[] literal: every element double-quoted, `\\` and `"` escaped."""
    quoted = ('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


class Stopwatch:
    """Accumulates milliseconds per stage for the file's log line and `raw.files.timings_ms`."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.ms[stage] = round(self.ms.get(stage, 0.0) + (now - since) * 1000, 1)
        return now
