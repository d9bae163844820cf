"""`salespipe watch`: poll the bucket and announce new objects on `sales.files`.

For stores that cannot notify Kafka themselves (moto, plain S3 without a bridge). `incoming/`
is an inbox: with `S3_AFTER_LOAD=move` (the default) a load moves each object out after its
transaction committed, so `incoming/` holds what is pending and nothing else. Each poll
therefore lists all of `incoming/` and announces every object (key and ETag) it has not
announced yet. Whatever a key's spelling, it is announced at the next poll: there is no
cursor for a back-filled day or another store's prefix to sort behind.

The state file keeps what was announced and is still in `incoming/`, so it is as small as
the inbox. It is written only after Kafka acknowledged the events: a restart re-announces at
most the last poll (duplicates are harmless, the loader skips a version it already loaded).

With `S3_AFTER_LOAD=tag` or `none`, objects stay in `incoming/` and each poll lists the
bucket's whole history; past `LARGE_INBOX` objects the watcher says so in its log.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

from announcer.announce import Announcer, S3Object, list_incoming
from salespipe import s3
from salespipe.logs import get_logger
from salespipe.retry import Backoff
from salespipe.settings import TOPIC_FILES, Settings, state_dir

log = get_logger("salespipe.watch")

STATE_VERSION = 3
# Listing 10,000 keys is 10 LIST requests per poll; past that a poll costs more than the loader
# would like to wait (see the watcher row of the benchmarks).
LARGE_INBOX = 10_000
LARGE_INBOX_LOG_EVERY_S = 3600.0


class WatchState:
    """What was announced and is still in `incoming/` (key -> ETag), as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.announced: dict[str, str] = {}
        self.warned_at = 0.0
        if path.exists():
            try:
                doc = json.loads(path.read_text())
                if doc.get("version") == STATE_VERSION:
                    self.announced = {str(k): str(v) for k, v in doc["announced"].items()}
                else:  # an older watcher's cursor: announce the inbox once more
                    log.info("state_upgraded", path=path, action="reannounce_inbox")
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                log.warning("state_unreadable", path=path, action="reannounce_inbox")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": STATE_VERSION, "announced": self.announced},
                                  separators=(",", ":")))
        tmp.replace(self.path)


def poll_once(settings: Settings, client: object, announcer: Announcer,
              state: WatchState) -> int:
    """List `incoming/`, announce what is new there. Returns how many were announced."""
    listed: list[S3Object] = list(list_incoming(client, settings.BUCKET_NAME))
    new = [o for o in listed if state.announced.get(o.key) != o.etag]
    for obj in new:
        announcer.publish(obj)
    if new:
        announcer.flush()
        for obj in new:
            log.info("announced", key=obj.key, etag=obj.etag, size=obj.size)
    current = {o.key: o.etag for o in listed}
    if new or current.keys() != state.announced.keys():
        state.announced = current  # what left the inbox is forgotten with it
        state.save()
    if len(listed) > LARGE_INBOX and time.time() - state.warned_at > LARGE_INBOX_LOG_EVERY_S:
        state.warned_at = time.time()
        log.warning("large_inbox", objects=len(listed),
                    hint="each poll lists all of incoming/: set S3_AFTER_LOAD=move, or have the "
                    "store notify Kafka itself")
    return len(new)


def watch(settings: Settings, *, interval: float = 1.0, once: bool = False,
          stop: threading.Event | None = None, topic: str = TOPIC_FILES,
          state_path: Path | None = None) -> None:
    """Poll until `stop` is set. In the main thread, Ctrl-C and SIGTERM only set it: every
    wait of the loop (backoff, Kafka acknowledgements) watches it, so the watcher stops within
    a fraction of a second even while S3 or Kafka is down, instead of finishing its retries
    first. The previous handlers are restored on return (the caller may be a test run)."""
    stop = stop or threading.Event()
    if threading.current_thread() is not threading.main_thread():
        _watch(settings, interval, once, stop, topic, state_path)
        return

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal", signum=signum, action="stop")
        stop.set()

    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        _watch(settings, interval, once, stop, topic, state_path)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _watch(settings: Settings, interval: float, once: bool, stop: threading.Event, topic: str,
           state_path: Path | None) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from announcer.announce import AnnounceInterrupted
    from salespipe.kafka import KafkaUnavailable

    client = s3.client(settings)
    announcer = Announcer(settings, topic, stop=stop)
    state = WatchState(state_path or state_dir() / f"watch-{settings.BUCKET_NAME}.json")
    log.info("watch_started", bucket=settings.BUCKET_NAME, interval_s=interval)
    backoff = Backoff(first=2 * interval, cap=30.0)
    while not stop.is_set():
        delay = interval
        try:
            announcer.poll()
            poll_once(settings, client, announcer, state)
            backoff.reset()
        except (BotoCoreError, ClientError) as exc:
            delay = backoff.next_delay()
            log.warning("s3_unavailable", error=type(exc).__name__,
                        retry_in_s=round(delay, 1))
        except KafkaUnavailable as exc:
            delay = backoff.next_delay()
            log.warning("kafka_unavailable", error=str(exc), retry_in_s=round(delay, 1))
        except AnnounceInterrupted as exc:
            log.info("watch_interrupted", detail=str(exc))
        if once:
            return
        stop.wait(delay)
    log.info("watch_stopped")
