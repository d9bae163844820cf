"""Write one file into `raw` in one transaction: manifest row, valid rows (COPY), rejects (COPY).

All values travel as COPY data or bound parameters; identifiers are constants of this module.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from loader.columns import RAW_SALES_COLUMNS

_REJECTS_COPY = "copy raw.sales_rejected (file_id, key, row_number, raw_values, reasons) from stdin"
# CSV format lets the csv module (C) format a whole chunk at once. Quoted empty strings are
# text, so the nullable columns say explicitly that an empty value means NULL.
_SALES_COPY_CSV = (
    "copy raw.sales (file_id, row_number, " + ", ".join(RAW_SALES_COLUMNS) + ") from stdin "
    "(format csv, force_null (payment_date, delivery_date, customer_rating))"
)


class SalesCopier:
    """One COPY per file, fed from a background thread.

    The caller formats each validated chunk as CSV bytes; the thread writes them to the
    server. Socket writes release the GIL and PostgreSQL parses on its own core, so COPY of
    chunk N overlaps validation of chunk N+1. The caller must not use the connection until
    `close()` returns (psycopg connections are not shared between threads here).
    """

    def __init__(self, conn: psycopg.Connection, file_id: int) -> None:
        self.conn = conn
        self.file_id = file_id
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="copy-sales", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self.conn.cursor() as cur, cur.copy(_SALES_COPY_CSV) as copy:
                while (block := self._queue.get()) is not None:
                    copy.write(block)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            self._error = exc
            while self._queue.get() is not None:  # unblock the producer until close()
                pass

    def write(self, row_numbers: list[int], rows: list[tuple[Any, ...]]) -> None:
        buf = io.StringIO()
        fid = self.file_id
        csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(
            (fid, n, *row) for n, row in zip(row_numbers, rows, strict=True)
        )
        self._queue.put(buf.getvalue().encode("utf-8"))

    def close(self) -> None:
        """End the COPY (waits for the server); raises what the COPY raised."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


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


def copy_rejects(conn: psycopg.Connection, file_id: int, key: str,
                 rejects: Iterable[Any]) -> None:
    with conn.cursor() as cur, cur.copy(_REJECTS_COPY) as copy:
        for r in rejects:
            copy.write_row((file_id, key, r.row_number,
                            json.dumps(r.values, ensure_ascii=False), r.reasons))


class Stopwatch:
    """Accumulates milliseconds per stage for the file's log line and `raw.files.timings_ms`."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.ms[stage] = round(self.ms.get(stage, 0.0) + (now - since) * 1000, 1)
        return now
