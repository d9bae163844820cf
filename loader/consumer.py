"""`salespipe load`: the consume loop.

    poll sales.files -> for each message: parse event -> load each object (one DB transaction)
    -> commit the message's offset -> after the batch: dbt build -> summary on sales.loads.

At-least-once delivery plus idempotent loads (skip a (key, ETag) already in raw.files) gives an
exactly-once effect on the marts: a crash between the DB commit and the offset commit only
causes a redelivery that is skipped.
"""

from __future__ import annotations

import json
import logging
import signal
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from loader.alerts import Alerts
from loader.dbt import DbtOutcome, DbtWorker, run_build
from loader.download import Stopped
from loader.events import InvalidEvent, is_loadable, parse_event
from loader.load import FileOutcome, load_object
from loader.tidy import Tidy
from salespipe import db, kafka, s3
from salespipe.settings import CONSUMER_GROUP, TOPIC_DLQ, TOPIC_FILES, TOPIC_LOADS, Settings

log = logging.getLogger("loader.consumer")

POLL_TIMEOUT_S = 0.5
DB_RETRY_MAX_S = 30.0


@dataclass(frozen=True)
class Topics:
    """Topic names (the contract's by default; tests use their own to stay isolated)."""

    files: str = TOPIC_FILES
    dlq: str = TOPIC_DLQ
    loads: str = TOPIC_LOADS


@dataclass
class Batch:
    started: float = field(default_factory=time.time)
    files: list[FileOutcome] = field(default_factory=list)
    dlq: int = 0
    ignored: int = 0

    @property
    def changed(self) -> bool:
        return any(f.status in ("loaded", "rejected") for f in self.files)


class Loader:
    """One member of the `sales-loader` group."""

    def __init__(self, settings: Settings, *, run_dbt: bool = True, batch_size: int = 20,
                 group_id: str = CONSUMER_GROUP, topics: Topics | None = None) -> None:
        from confluent_kafka import Consumer, Producer

        self.settings = settings
        # Least privilege: rows are written as the loader role, dbt runs as the transform role.
        self.db_settings = settings.for_component("loader")
        self.dbt_settings = settings.for_component("transform")
        self.dbt_worker = DbtWorker(self.dbt_settings)
        self.topics = topics or Topics()
        self.group_id = group_id
        self.run_dbt = run_dbt
        self.batch_size = batch_size
        self.stop = threading.Event()
        self.consumer = Consumer(kafka.consumer_config(settings, group_id))
        self.producer = Producer(kafka.producer_config(settings))
        self.s3 = s3.client(settings)
        self.tidy = Tidy(settings.S3_AFTER_LOAD, self.s3, settings.BUCKET_NAME)
        self.alerts = Alerts(settings)
        self.workdir = Path(tempfile.mkdtemp(prefix="salespipe-loader-"))
        self.conn: psycopg.Connection | None = None
        # True at start: a loader that died after a DB commit but before dbt left marts behind;
        # the redelivered event is skipped, so only this first build catches them up.
        self.dbt_pending = run_dbt
        self.dbt_backoff = 1.0
        self.next_dbt_attempt = 0.0

    # --- database connection, re-established after a server restart ----------------------
    def _db(self) -> psycopg.Connection:
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return self.conn
        backoff = 1.0
        while True:
            try:
                self.conn = db.connect(self.db_settings, autocommit=True,
                                       application_name="salespipe-loader")
                return self.conn
            except psycopg.OperationalError as exc:
                log.warning("event=db_unavailable error=%r retry_in_s=%.0f",
                            str(exc).splitlines()[0][:200], backoff)
                if self.stop.wait(backoff):
                    raise Stopped("database") from exc
                backoff = min(backoff * 2, DB_RETRY_MAX_S)

    # --- one message ---------------------------------------------------------------------
    def handle(self, msg: Any, batch: Batch) -> None:
        """Load what the message announces; returns only when it is safe to commit its offset."""
        try:
            refs = parse_event(msg.value())
        except InvalidEvent as exc:
            self._dead_letter(msg, str(exc))
            batch.dlq += 1
            return
        for ref in refs:
            if not is_loadable(ref):
                log.debug("event=ignored key=%s event_name=%s", ref.key, ref.event_name)
                batch.ignored += 1
                continue
            outcome = self._load_with_retry(ref)
            batch.files.append(outcome)
            self.tidy.after_load(self._db(), outcome)  # committed: safe to tag or move
            self.alerts.file_outcome(outcome)

    def _load_with_retry(self, ref: Any) -> FileOutcome:
        backoff = 1.0
        while True:
            try:
                return load_object(self._db(), self.s3, ref, self.workdir, self.stop)
            except psycopg.OperationalError as exc:
                # Server restart or network drop: the transaction rolled back; try the file again.
                log.warning("event=db_error key=%s error=%r retry_in_s=%.0f", ref.key,
                            str(exc).splitlines()[0][:200], backoff)
                if self.conn is not None:
                    self.conn.close()
                if self.stop.wait(backoff):
                    raise Stopped(ref.key) from exc
                backoff = min(backoff * 2, DB_RETRY_MAX_S)

    def _dead_letter(self, msg: Any, error: str) -> None:
        headers = [
            ("error", error.encode()[:1000]),
            ("source.topic", str(msg.topic()).encode()),
            ("source.partition", str(msg.partition()).encode()),
            ("source.offset", str(msg.offset()).encode()),
        ]
        self.producer.produce(self.topics.dlq, key=msg.key(), value=msg.value(), headers=headers)
        if self.producer.flush(30):
            raise kafka.KafkaUnavailable("could not write to the dead-letter topic")
        log.warning("event=dead_lettered partition=%s offset=%s error=%r", msg.partition(),
                    msg.offset(), error)

    # --- the batch -------------------------------------------------------------------------
    def finish_batch(self, batch: Batch) -> None:
        if batch.changed and self.run_dbt:
            self.dbt_pending = True
        outcome: DbtOutcome | None = None
        if self.run_dbt and self.dbt_pending:
            try:
                outcome = run_build(self.dbt_settings, self.dbt_worker)
            except psycopg.Error as exc:
                outcome = DbtOutcome(False, 0.0, f"database error: {str(exc).splitlines()[0]}")
            self.dbt_pending = not outcome.success
            self.alerts.dbt_outcome(outcome)
            # A failed build is retried with capped backoff, not in a tight loop.
            self.dbt_backoff = 1.0 if outcome.success else min(self.dbt_backoff * 2, 60.0)
            self.next_dbt_attempt = time.monotonic() + (0 if outcome.success else self.dbt_backoff)
        if batch.files or batch.dlq or outcome is not None:
            self._publish_summary(batch, outcome)

    def _publish_summary(self, batch: Batch, outcome: DbtOutcome | None) -> None:
        summary = {
            "batch_id": str(uuid.uuid4()),
            "started_at": datetime.fromtimestamp(batch.started, UTC).isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "files": [f.as_dict() for f in batch.files],
            "files_loaded": sum(f.status == "loaded" for f in batch.files),
            "files_rejected": sum(f.status == "rejected" for f in batch.files),
            "files_skipped": sum(f.status == "skipped" for f in batch.files),
            "rows_valid": sum(f.rows_valid for f in batch.files),
            "rows_rejected": sum(f.rows_rejected for f in batch.files),
            "dead_lettered": batch.dlq,
            "dbt": outcome.as_dict() if outcome else None,
        }
        self.producer.produce(self.topics.loads, value=json.dumps(summary).encode())
        self.producer.flush(10)
        log.info("event=batch_done files=%d loaded=%d rejected=%d skipped=%d dlq=%d dbt=%s",
                 len(batch.files), summary["files_loaded"], summary["files_rejected"],
                 summary["files_skipped"], batch.dlq,
                 "skipped" if outcome is None else ("ok" if outcome.success else "failed"))

    # --- the loop ----------------------------------------------------------------------------
    def run(self, exit_when_idle: float | None = None) -> None:
        from confluent_kafka import KafkaException

        self.consumer.subscribe([self.topics.files])
        idle_since = time.monotonic()
        log.info("event=loader_started group=%s topic=%s", self.group_id, self.topics.files)
        try:
            while not self.stop.is_set():
                msgs = self._next_batch()
                batch = Batch()
                for msg in msgs:
                    if self.stop.is_set():
                        break  # uncommitted messages are redelivered to whoever owns them next
                    if msg.error():
                        log.warning("event=kafka_error error=%s", msg.error())
                        continue
                    self.handle(msg, batch)
                    try:
                        self.consumer.commit(message=msg, asynchronous=False)
                    except KafkaException as exc:
                        # Lost the partition in a rebalance: the next owner redelivers; loads
                        # are idempotent, so this costs a skip, not a double count.
                        log.warning("event=commit_failed error=%s", exc)
                real = [m for m in msgs if not m.error()]
                dbt_due = self.dbt_pending and time.monotonic() >= self.next_dbt_attempt
                if real or dbt_due:
                    self.finish_batch(batch)
                    if real or not self.dbt_pending:
                        idle_since = time.monotonic()  # idle: nothing to do since the last work
                elif exit_when_idle is not None and time.monotonic() - idle_since >= exit_when_idle:
                    log.info("event=idle_exit idle_s=%.1f dbt_pending=%s", exit_when_idle,
                             self.dbt_pending)
                    break
        except Stopped:
            log.info("event=stopping reason=shutdown_during_work")
        finally:
            self.close()

    def _next_batch(self) -> list[Any]:
        """Wait for one message, then take whatever else is already fetched (up to the batch
        size) without waiting: `consume(n, timeout)` alone holds a lone file back until the
        timeout, which is pure added latency when files arrive one at a time."""
        msgs = self.consumer.consume(num_messages=1, timeout=POLL_TIMEOUT_S)
        if msgs and self.batch_size > 1:
            msgs += self.consumer.consume(num_messages=self.batch_size - 1, timeout=0)
        return msgs

    def close(self) -> None:
        self.consumer.close()
        self.dbt_worker.close()
        self.alerts.close()
        self.producer.flush(10)
        if self.conn is not None:
            self.conn.close()
        for leftover in self.workdir.glob("*"):
            leftover.unlink(missing_ok=True)
        self.workdir.rmdir()
        log.info("event=loader_stopped")


def run_loader(settings: Settings, *, exit_when_idle: float | None = None, run_dbt: bool = True,
               batch_size: int = 20, group_id: str = CONSUMER_GROUP,
               topics: Topics | None = None) -> int:
    kafka.check_broker(settings)
    db.check_schema(settings.for_component("loader"))
    loader = Loader(settings, run_dbt=run_dbt, batch_size=batch_size, group_id=group_id,
                    topics=topics)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("event=signal signum=%d action=finish_current_file", signum)
        loader.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    loader.run(exit_when_idle=exit_when_idle)
    return 0
