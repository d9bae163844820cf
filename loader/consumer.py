"""`salespipe load`: the consume loop.

    poll sales.files -> for each message: parse event -> load each object (one DB transaction)
    -> commit the message's offset -> after the batch: request a dbt build (run beside the
    loop, see loader/builds.py) -> after the build: summary on sales.loads.

At-least-once delivery plus idempotent loads (skip a (key, ETag) already in raw.files) gives an
exactly-once effect on the marts: a crash between the DB commit and the offset commit only
causes a redelivery that is skipped.

A batch is handled without polling, and rebalance callbacks only run inside `consume()`, so
a batch can hold messages of a partition revoked meanwhile (between the batch's two consume
calls, or while the previous batch was handled and the group waited for us). Such messages
are handed back unloaded and uncommitted: the partition's new owner reads them from the
committed offset.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from structlog.contextvars import bound_contextvars

from loader import scratch
from loader.alerts import Alerts
from loader.builds import BuildScheduler
from loader.dbt import DBT_TIMEOUT_S, DbtOutcome, DbtWorker
from loader.download import Stopped
from loader.events import InvalidEvent, is_loadable, parse_event
from loader.limits import Limits
from loader.load import FileOutcome, load_object, warm_up
from loader.tidy import Tidy
from salespipe import db, kafka, s3
from salespipe.logs import get_logger
from salespipe.retry import Backoff
from salespipe.settings import CONSUMER_GROUP, TOPIC_DLQ, TOPIC_FILES, TOPIC_LOADS, Settings

log = get_logger("loader.consumer")

POLL_TIMEOUT_S = 0.5
DB_RETRY_MAX_S = 30.0
# librdkafka evicts a group member that has not polled for `max.poll.interval.ms`. Builds run
# beside the consume loop, but nothing may rely on that to stay in the group: the interval
# outlasts the longest build dbt is allowed (DBT_TIMEOUT_S) plus a margin for waiting on
# another loader's build and for loading a batch; derived here so raising the dbt timeout
# raises it too.
MAX_POLL_INTERVAL_MS = (DBT_TIMEOUT_S + 600) * 1000


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


class Ownership:
    """The partitions this member holds, as the rebalance callbacks report them.

    Kafka delivers whole assignments eagerly or increments cooperatively; both read as "these
    were added" and "these were taken away". A message is ours to load only if its partition
    is ours now and has been since the message was fetched: after a partition comes back,
    Kafka fetches it again from the committed offset, so an older copy must not be loaded
    (committing it could skip a message handed back in between).
    """

    def __init__(self) -> None:
        self._since: dict[tuple[str, int], int] = {}  # owned partition -> epoch it came
        self.epoch = 0  # counts assignment changes
        self.joined_at: float | None = None  # monotonic time of the first assignment

    def assigned(self, partitions: list[Any]) -> None:
        self.epoch += 1
        if self.joined_at is None:
            self.joined_at = time.monotonic()
        self._since.update({(tp.topic, tp.partition): self.epoch for tp in partitions})
        log.info("partitions_assigned", partitions=_names(partitions))

    def revoked(self, partitions: list[Any]) -> None:
        self.epoch += 1
        for tp in partitions:
            self._since.pop((tp.topic, tp.partition), None)
        log.info("partitions_revoked", partitions=_names(partitions))

    def owns(self, msg: Any, fetched_at: int) -> bool:
        """`fetched_at`: the epoch when the message was fetched."""
        since = self._since.get((msg.topic(), msg.partition()))
        return since is not None and since <= fetched_at


def _names(partitions: list[Any]) -> str:
    return ",".join(str(tp.partition) for tp in partitions) or "none"


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
        self.ownership = Ownership()
        self._carried: deque[tuple[Any, int]] = deque()  # fetched between files
        self.consumer = Consumer(kafka.consumer_config(
            settings, group_id, **{"max.poll.interval.ms": MAX_POLL_INTERVAL_MS}))
        self.producer = Producer(kafka.producer_config(settings))
        self.s3 = s3.client(settings)
        self.tidy = Tidy(settings.S3_AFTER_LOAD, self.s3, settings.BUCKET_NAME)
        self.alerts = Alerts(settings)
        self.workdir = scratch.open_scratch(settings.LOADER_SCRATCH_DIR)
        self.limits = Limits.from_settings(settings)
        self.max_crashes = settings.LOADER_MAX_CRASHES
        self.conn: psycopg.Connection | None = None
        self.builds = BuildScheduler(self.dbt_settings, self.dbt_worker,
                                     on_done=self._build_done, on_error=lambda _e: self.stop.set())
        if run_dbt:
            # A loader that died after a DB commit but before dbt left marts behind; the
            # redelivered event is skipped, so only this first build catches them up. It runs
            # beside the consume loop: files announced meanwhile do not wait for it.
            self.builds.request()

    # --- database connection, re-established after a server restart ----------------------
    def _db(self) -> psycopg.Connection:
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return self.conn
        backoff = Backoff(cap=DB_RETRY_MAX_S)
        while True:
            try:
                self.conn = db.connect(self.db_settings, autocommit=True,
                                       application_name="salespipe-loader")
                return self.conn
            except psycopg.OperationalError as exc:
                delay = backoff.next_delay()
                log.warning("db_unavailable", error=str(exc).splitlines()[0][:200],
                            retry_in_s=round(delay, 1))
                if backoff.wait(self.stop, delay):
                    raise Stopped("database") from exc

    # --- one message ---------------------------------------------------------------------
    def handle(self, msg: Any, batch: Batch) -> None:
        """Load what the message announces; returns only when it is safe to commit its offset.

        Crash containment: each delivery is counted in PostgreSQL before the file is read and
        the count is removed once the message is handled (or the loader stops cleanly), so a
        count that survives is a delivery during which the process died. A message that has
        stopped the loader `LOADER_MAX_CRASHES` times goes to the DLQ instead of stopping
        the next loader too.
        """
        crashes = self._count_delivery(msg)
        if crashes >= self.max_crashes:
            self._dead_letter(msg, f"stopped the loader {crashes} times")
            batch.dlq += 1
            self._forget_delivery(msg)
            return
        try:
            self._handle(msg, batch)
        except Stopped:
            self._forget_delivery(msg)  # a clean stop is not a crash
            raise
        self._forget_delivery(msg)

    def _count_delivery(self, msg: Any) -> int:
        """Count this delivery; returns how many earlier ones never finished."""
        row = self._db().execute(
            """
            insert into raw.load_attempts (topic, kafka_partition, kafka_offset, attempts)
            values (%s, %s, %s, 1)
            on conflict (topic, kafka_partition, kafka_offset)
            do update set attempts = raw.load_attempts.attempts + 1,
                          last_started_at = clock_timestamp()
            returning attempts
            """, (msg.topic(), msg.partition(), msg.offset())).fetchone()
        return int(row[0]) - 1 if row else 0

    def _forget_delivery(self, msg: Any) -> None:
        with contextlib.suppress(psycopg.OperationalError):
            self._db().execute(
                "delete from raw.load_attempts where topic = %s and kafka_partition = %s"
                " and kafka_offset = %s", (msg.topic(), msg.partition(), msg.offset()))

    def _handle(self, msg: Any, batch: Batch) -> None:
        try:
            refs = parse_event(msg.value())
        except InvalidEvent as exc:
            self._dead_letter(msg, str(exc))
            batch.dlq += 1
            return
        for ref in refs:
            # Every line about this file, a library's too, carries its key.
            with bound_contextvars(key=ref.key):
                self._handle_object(ref, batch)

    def _handle_object(self, ref: Any, batch: Batch) -> None:
        if not is_loadable(ref):
            log.debug("ignored", event_name=ref.event_name)
            batch.ignored += 1
            return
        outcome = self._load_with_retry(ref)
        batch.files.append(outcome)
        self.tidy.after_load(self._db(), outcome)  # committed: safe to tag or move
        self.alerts.file_outcome(outcome)

    def _load_with_retry(self, ref: Any) -> FileOutcome:
        backoff = Backoff(cap=DB_RETRY_MAX_S)
        while True:
            try:
                return load_object(self._db(), self.s3, ref, self.workdir, self.stop, self.limits)
            except psycopg.OperationalError as exc:
                # Server restart or network drop: the transaction rolled back; try the file again.
                delay = backoff.next_delay()
                log.warning("db_error", error=str(exc).splitlines()[0][:200],
                            retry_in_s=round(delay, 1))
                if self.conn is not None:
                    self.conn.close()
                if backoff.wait(self.stop, delay):
                    raise Stopped(ref.key) from exc

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
        log.warning("dead_lettered", partition=msg.partition(), offset=msg.offset(),
                    error=error)

    # --- the batch -------------------------------------------------------------------------
    def finish_batch(self, batch: Batch) -> None:
        """A batch that changed raw gets a build (its summary waits for it); others are
        summarized at once."""
        if batch.changed and self.run_dbt:
            self.builds.request(batch)
        elif batch.files or batch.dlq:
            self._publish_summary(batch, None)

    def _build_done(self, batches: list[Batch], outcome: DbtOutcome) -> None:
        """In the build thread: one summary per batch the build covered (a start-up or retry
        build covers none and is reported on its own)."""
        self.alerts.dbt_outcome(outcome)
        for batch in batches or [Batch()]:
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
        log.info("batch_done", files=len(batch.files), loaded=summary["files_loaded"],
                 rejected=summary["files_rejected"], skipped=summary["files_skipped"],
                 dlq=batch.dlq,
                 dbt="skipped" if outcome is None else ("ok" if outcome.success else "failed"))

    # --- the loop ----------------------------------------------------------------------------
    def run(self, exit_when_idle: float | None = None) -> None:
        from confluent_kafka import KafkaException

        try:
            # Ready before joining: the first file is what a burst or a rebalance waits on.
            self._db()
            log.info("warmed_up", seconds=round(warm_up(self.workdir), 3))
            # A lost partition (session timed out) is no more ours than a revoked one.
            self.consumer.subscribe(
                [self.topics.files],
                on_assign=lambda _c, parts: self.ownership.assigned(parts),
                on_revoke=lambda _c, parts: self.ownership.revoked(parts),
                on_lost=lambda _c, parts: self.ownership.revoked(parts))
            idle_since = time.monotonic()
            log.info("loader_started", group=self.group_id, topic=self.topics.files)
            while not self.stop.is_set():
                if self.builds.error is not None:
                    raise self.builds.error
                pending = self._next_batch()
                msgs: list[Any] = []
                batch = Batch()
                while pending and not self.stop.is_set():
                    # (a stop leaves the rest uncommitted: redelivered to whoever owns it next)
                    msg, fetched_at = pending.popleft()
                    msgs.append(msg)
                    if msg.error():
                        # e.g. TOPIC_AUTHORIZATION_FAILED arrives as a message, not a callback
                        kafka.raise_if_fatal(msg.error())
                        log.warning("kafka_error", error=msg.error())
                        continue
                    if not self.ownership.owns(msg, fetched_at):
                        log.info("handed_back", partition=msg.partition(), offset=msg.offset())
                        continue
                    self.handle(msg, batch)
                    try:
                        self.consumer.commit(message=msg, asynchronous=False)
                    except KafkaException as exc:
                        # Lost the partition in a rebalance: the next owner redelivers; loads
                        # are idempotent, so this costs a skip, not a double count.
                        log.warning("commit_failed", error=exc)
                    self._poll_between_files()
                if any(not m.error() for m in msgs):
                    self.finish_batch(batch)
                    idle_since = time.monotonic()
                elif (exit_when_idle is not None and not self.builds.busy
                      and self.ownership.joined_at is not None
                      and time.monotonic() - max(idle_since, self.builds.last_success,
                                                 self.ownership.joined_at) >= exit_when_idle):
                    # idle: a member of the group (joining is not idling: on a busy broker it
                    # can take longer than the idle time), with no message and no build due
                    # since the last work
                    log.info("idle_exit", idle_s=round(exit_when_idle, 1))
                    break
            if self.builds.error is not None:
                raise self.builds.error
        except Stopped:
            log.info("stopping", reason="shutdown_during_work")
        finally:
            self.close()

    def _poll_between_files(self) -> None:
        """Poll without waiting between two files of a batch. Rebalance callbacks only run
        inside a poll: a member that joins while this one works through a burst gets its
        partitions now (their remaining messages are handed back), not after the whole
        batch. What the poll returns waits for the next batch, so this batch's build is not
        held back by files that arrived later."""
        room = self.batch_size - len(self._carried)
        if room > 0:
            self._carried.extend(self._stamped(self.consumer.consume(room, timeout=0)))

    def _next_batch(self) -> deque[tuple[Any, int]]:
        """Messages with the ownership epoch they were fetched in: those carried over from
        polls between files, else wait for one message; then whatever else is already fetched
        (up to the batch size) without waiting: `consume(n, timeout)` alone holds a lone file
        back until the timeout, which is pure added latency when files arrive one at a time."""
        batch, self._carried = self._carried, deque()
        if not batch:
            batch.extend(self._stamped(self.consumer.consume(1, timeout=POLL_TIMEOUT_S)))
        if batch and len(batch) < self.batch_size:
            batch.extend(self._stamped(self.consumer.consume(self.batch_size - len(batch),
                                                             timeout=0)))
        return batch

    def _stamped(self, msgs: list[Any]) -> list[tuple[Any, int]]:
        """Read the epoch after consume() returned: the assignment it may have changed (the
        first join happens inside it) is the one its messages were fetched under."""
        epoch = self.ownership.epoch
        return [(m, epoch) for m in msgs]

    def close(self) -> None:
        from confluent_kafka import KafkaException

        # After a fatal Kafka error the clients raise it again while closing; the first one
        # is what gets reported.
        with contextlib.suppress(kafka.KafkaFatal, KafkaException):
            self.consumer.close()
        self.builds.close()
        self.dbt_worker.close()
        self.alerts.close()
        with contextlib.suppress(kafka.KafkaFatal, KafkaException):
            self.producer.flush(10)
        if self.conn is not None:
            self.conn.close()
        scratch.close(self.workdir)
        log.info("loader_stopped")


def run_loader(settings: Settings, *, exit_when_idle: float | None = None, run_dbt: bool = True,
               batch_size: int = 20, group_id: str = CONSUMER_GROUP,
               topics: Topics | None = None) -> int:
    kafka.check_broker(settings)
    db.check_schema(settings.for_component("loader"))
    loader = Loader(settings, run_dbt=run_dbt, batch_size=batch_size, group_id=group_id,
                    topics=topics)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal", signum=signum, action="finish_current_file")
        loader.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    loader.run(exit_when_idle=exit_when_idle)
    return 0
