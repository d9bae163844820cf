"""Load one announced object version into `raw`: the unit of work the consumer commits."""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa

from loader import copy as raw
from loader import scratch, tidy
from loader.events import ObjectRef
from loader.formats import SalesFile, open_sales_file
from loader.limits import DEFAULT_LIMITS, Limits
from loader.parse import FileRejected
from loader.validate import validate_chunk
from salespipe.contract import RAW_SALES_COLUMNS
from salespipe.logs import get_logger

log = get_logger("loader.load")

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
               watch: raw.Stopwatch, limits: Limits, stop: threading.Event) -> int:
    """Inside the caller's transaction; raises FileRejected for a file that cannot be loaded."""
    t = time.perf_counter()
    with open_sales_file(path, rec.key, limits, stop) as csv_file:
        watch.add("parse", t)
        return _copy_rows(conn, csv_file, path, rec, watch)


def _copy_rows(conn: psycopg.Connection, csv_file: SalesFile, path: Path, rec: raw.FileRecord,
               watch: raw.Stopwatch) -> int:
    t = time.perf_counter()
    rec.encoding, rec.delimiter = csv_file.encoding, csv_file.delimiter
    rec.extra_columns = list(csv_file.extra_columns)
    file_id = raw.insert_file(conn, rec)
    sale_ids = raw.SaleIdHashes()
    t = watch.add("parse", t)
    rejects = raw.RejectSpool(path.parent, file_id, rec.key)
    try:
        copier = raw.SalesCopier(conn, file_id)
        try:
            for chunk in csv_file.chunks(CHUNK_ROWS):
                t = watch.add("parse", t)
                result = validate_chunk(chunk, decimal_comma=csv_file.decimal_comma,
                                        seen_sale_ids=None)
                sale_ids.add(result.valid)
                t = watch.add("validate", t)
                copier.write(result.valid)
                rejects.add(result.rejected)
                t = watch.add("copy", t)
                rec.rows_valid += result.n_valid
                rec.rows_rejected += len(result.rejected)
        finally:
            copier.close()  # before anything else touches the connection, even on error
        rejects.copy(conn)
        duplicates = raw.move_duplicates(conn, file_id, rec.key, sale_ids.candidates())
        rec.rows_valid -= duplicates
        rec.rows_rejected += duplicates
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
                stop: threading.Event, limits: Limits = DEFAULT_LIMITS) -> FileOutcome:
    """Download, validate and write one object version in ONE transaction.

    Idempotent: a (key, ETag) already loaded is skipped, so redelivered events change nothing.
    Whatever the file holds ends as loaded or rejected with a reason: over a limit, values
    PostgreSQL refuses (the COPY rolls back whole), or memory exhausted by the file. Only a
    lost database connection or a stop request propagates (the caller retries or leaves
    the message uncommitted). Scratch files in `workdir` are removed before returning.
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
                file_id = _copy_file(conn, obj.path, rec, watch, limits, stop)
            except (psycopg.DataError, MemoryError) as exc:
                raise FileRejected(_refused(exc)) from exc
            except psycopg.Error:
                raise  # the server or the connection, not the file: retried or reported
            except (ArithmeticError, LookupError, OSError, ValueError, pa.ArrowException) as exc:
                # A reader tripping over something no rule foresaw: the file is refused
                # with what went wrong, and the loader goes on to the next one.
                raise FileRejected(f"the loader could not read the file: "
                                   f"{type(exc).__name__}: {_first_line(exc)}") from exc
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
        scratch.clear(workdir)
    outcome = tidy.with_source(FileOutcome(ref.key, obj.etag, "loaded", rec.rows_valid,
                                           rec.rows_rejected, file_id=file_id), source)
    _log_outcome(outcome, watch)
    return outcome


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _refused(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "the file exhausted the loader's memory while being read (no limit caught it)"
    return f"PostgreSQL refused the file's values: {_first_line(exc)}"


def _loaded(conn: psycopg.Connection, key: str, etag: str) -> bool:
    with conn.transaction():
        return raw.already_loaded(conn, key, etag)


def _skipped(key: str, etag: str) -> FileOutcome:
    log.info("file_skipped", key=key, etag=etag, reason="already_loaded")
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
    # One `<stage>_ms=` field per stage, whole milliseconds: a JSON line gets numbers.
    stages = {f"{stage}_ms": round(ms) for stage, ms in watch.ms.items()}
    log.info(f"file_{o.status}", key=o.key, etag=o.etag, valid=o.rows_valid,
             rejected=o.rows_rejected, reason=o.reason or "", **stages)
