"""Load one announced object version into `raw`: the unit of work the consumer commits."""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from loader import copy as raw
from loader import tidy
from loader.events import ObjectRef
from loader.formats import SalesFile, open_sales_file
from loader.parse import FileRejected
from loader.validate import validate_chunk
from salespipe.contract import RAW_SALES_COLUMNS

log = logging.getLogger("loader.load")

# Rows validated and handed to the COPY thread at a time. The COPY starts only when the first
# chunk is validated, and PostgreSQL is the slower side, so a small first chunk is what counts:
# measured against 50,000 (same files, alternating runs), 10,000 loads a 200,000-row file in
# 1.22 s instead of 1.34 s and a 1,000,000-row file in 5.41 s instead of 5.60 s.
CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class FileOutcome:
    key: str
    etag: str
    status: str  # loaded | rejected | skipped
    rows_valid: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    file_id: int | None = None
    source_key: str | None = None  # set when the object was read from where a load moved it

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _copy_file(conn: psycopg.Connection, path: Path, rec: raw.FileRecord,
               watch: raw.Stopwatch) -> int:
    """Inside the caller's transaction; raises FileRejected for a file that cannot be loaded."""
    t = time.perf_counter()
    with open_sales_file(path, rec.key) as csv_file:
        watch.add("parse", t)
        return _copy_rows(conn, csv_file, path, rec, watch)


def _copy_rows(conn: psycopg.Connection, csv_file: SalesFile, path: Path, rec: raw.FileRecord,
               watch: raw.Stopwatch) -> int:
    t = time.perf_counter()
    rec.encoding, rec.delimiter = csv_file.encoding, csv_file.delimiter
    rec.extra_columns = list(csv_file.extra_columns)
    file_id = raw.insert_file(conn, rec)
    seen: Any = {}
    t = watch.add("parse", t)
    rejects = raw.RejectSpool(path.parent, file_id, rec.key)
    try:
        copier = raw.SalesCopier(conn, file_id)
        try:
            for chunk in csv_file.chunks(CHUNK_ROWS):
                t = watch.add("parse", t)
                result = validate_chunk(chunk, decimal_comma=csv_file.decimal_comma,
                                        seen_sale_ids=seen)
                t = watch.add("validate", t)
                copier.write(result.valid)
                rejects.add(result.rejected)
                t = watch.add("copy", t)
                rec.rows_valid += result.n_valid
                rec.rows_rejected += len(result.rejected)
        finally:
            copier.close()  # before anything else touches the connection, even on error
        rejects.copy(conn)
    finally:
        rejects.close()
    watch.add("copy", t)
    return file_id


def warm_up(workdir: Path) -> float:
    """Read and validate a one-row file; returns the seconds it took.

    The first validation in a process pays one-time costs (pyarrow's compute layer imports
    pandas on its first call, about 150 ms, ten times the work of a 5,000-row file). A loader
    calls this before it joins its group, so those costs stay off the first file a new or
    restarted member loads: the file a burst or a rebalance is waiting on.
    """
    started = time.perf_counter()
    path = workdir / "warm-up.csv"
    path.write_text(",".join(RAW_SALES_COLUMNS) + "\n" + "," * (len(RAW_SALES_COLUMNS) - 1)
                    + "\n")
    try:
        with open_sales_file(path) as sales_file:
            for chunk in sales_file.chunks():
                validate_chunk(chunk, decimal_comma=sales_file.decimal_comma, seen_sale_ids={})
    finally:
        path.unlink(missing_ok=True)
    return time.perf_counter() - started


def load_object(conn: psycopg.Connection, s3_client: Any, ref: ObjectRef, workdir: Path,
                stop: threading.Event) -> FileOutcome:
    """Download, validate and write one object version in ONE transaction.

    Idempotent: a (key, ETag) already loaded is skipped, so redelivered events change nothing.
    """
    received_at = datetime.now(UTC)
    watch = raw.Stopwatch()
    t = time.perf_counter()
    if ref.etag and _loaded(conn, ref.key, ref.etag):
        return _skipped(ref.key, ref.etag)
    try:
        obj, source = tidy.fetch(conn, s3_client, ref, workdir, stop)
    except FileRejected as exc:
        return _reject(conn, ref, ref.etag or "unknown", None, None, received_at, exc.reason, watch)
    watch.add("download", t)
    rec = raw.FileRecord(bucket=ref.bucket, key=ref.key, etag=obj.etag, size=obj.size,
                         modified_at=obj.modified_at, received_at=received_at)
    try:
        with conn.transaction():
            raw.lock_key(conn, ref.key)
            if raw.already_loaded(conn, ref.key, obj.etag):
                return _skipped(ref.key, obj.etag)
            raw.forget_rejected(conn, ref.key, obj.etag)
            # Pausing the cyclic GC during the hot loop roughly doubles validation speed
            # (millions of short-lived containers, no cycles).
            gc.disable()
            try:
                file_id = _copy_file(conn, obj.path, rec, watch)
            finally:
                gc.enable()
            t = time.perf_counter()
            rec.timings_ms = watch.ms
            raw.finish_file(conn, file_id, rec)
        watch.add("commit", t)
    except FileRejected as exc:
        return tidy.with_source(_reject(conn, ref, obj.etag, obj.size, obj.modified_at,
                                        received_at, exc.reason, watch), source)
    finally:
        obj.path.unlink(missing_ok=True)
    outcome = tidy.with_source(FileOutcome(ref.key, obj.etag, "loaded", rec.rows_valid,
                                           rec.rows_rejected, file_id=file_id), source)
    _log_outcome(outcome, watch)
    return outcome


def _loaded(conn: psycopg.Connection, key: str, etag: str) -> bool:
    with conn.transaction():
        return raw.already_loaded(conn, key, etag)


def _skipped(key: str, etag: str) -> FileOutcome:
    log.info("event=file_skipped key=%s etag=%s reason=already_loaded", key, etag)
    return FileOutcome(key, etag, "skipped", reason="already loaded")


def _reject(conn: psycopg.Connection, ref: ObjectRef, etag: str, size: int | None,
            modified_at: datetime | None, received_at: datetime, reason: str,
            watch: raw.Stopwatch) -> FileOutcome:
    rec = raw.FileRecord(bucket=ref.bucket, key=ref.key, etag=etag, size=size,
                         modified_at=modified_at, received_at=received_at, status="rejected",
                         reason=reason, timings_ms=watch.ms)
    with conn.transaction():
        raw.lock_key(conn, ref.key)
        if raw.already_loaded(conn, ref.key, etag):
            return _skipped(ref.key, etag)
        raw.forget_rejected(conn, ref.key, etag)
        file_id = raw.insert_file(conn, rec)
    outcome = FileOutcome(ref.key, etag, "rejected", reason=reason, file_id=file_id)
    _log_outcome(outcome, watch)
    return outcome


def _log_outcome(o: FileOutcome, watch: raw.Stopwatch) -> None:
    # One `<stage>_ms=` field per stage, each its own argument: a JSON line gets numbers.
    stages = "".join(f" {stage}_ms=%.0f" for stage in watch.ms)
    log.info("event=file_%s key=%s etag=%s valid=%d rejected=%d reason=%r" + stages, o.status,
             o.key, o.etag, o.rows_valid, o.rows_rejected, o.reason or "", *watch.ms.values())
