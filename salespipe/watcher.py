"""`salespipe watch`: poll the bucket and announce new objects on `sales.files`.

For stores that cannot notify Kafka themselves (moto, plain S3 without a bridge). What was
announced is remembered in a small state file, written only after Kafka acknowledged the
events: a restart re-announces at most the last poll (duplicates are harmless, silence is not).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path

from salespipe import s3
from salespipe.announce import Announcer, list_incoming
from salespipe.settings import TOPIC_FILES, Settings, state_dir

log = logging.getLogger("salespipe.watch")


class SeenObjects:
    """(key, etag) pairs already announced, persisted as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: dict[str, str] = {}
        if path.exists():
            try:
                self._seen = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                log.warning("event=state_unreadable path=%s action=reannounce_all", path)

    def is_new(self, key: str, etag: str) -> bool:
        return self._seen.get(key) != etag

    def mark(self, key: str, etag: str) -> None:
        self._seen[key] = etag

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._seen))
        tmp.replace(self.path)


def poll_once(settings: Settings, client: object, announcer: Announcer, seen: SeenObjects) -> int:
    new = [o for o in list_incoming(client, settings.BUCKET_NAME) if seen.is_new(o.key, o.etag)]
    for obj in new:
        announcer.publish(obj)
    if new:
        announcer.flush()
        for obj in new:
            seen.mark(obj.key, obj.etag)
            log.info("event=announced key=%s etag=%s size=%d", obj.key, obj.etag, obj.size)
        seen.save()
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
        log.info("event=signal signum=%d action=stop", signum)
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

    from salespipe.announce import AnnounceInterrupted
    from salespipe.kafka import KafkaUnavailable

    client = s3.client(settings)
    announcer = Announcer(settings, topic, stop=stop)
    seen = SeenObjects(state_path or state_dir() / f"watch-{settings.BUCKET_NAME}.json")
    log.info("event=watch_started bucket=%s interval_s=%s", settings.BUCKET_NAME, interval)
    backoff = interval
    while not stop.is_set():
        try:
            announcer.poll()
            poll_once(settings, client, announcer, seen)
            backoff = interval
        except (BotoCoreError, ClientError) as exc:
            backoff = min(backoff * 2, 30.0)
            log.warning("event=s3_unavailable error=%s retry_in_s=%.1f", type(exc).__name__,
                        backoff)
        except KafkaUnavailable as exc:
            backoff = min(backoff * 2, 30.0)
            log.warning("event=kafka_unavailable error=%r retry_in_s=%.1f", str(exc), backoff)
        except AnnounceInterrupted as exc:
            log.info("event=watch_interrupted detail=%r", str(exc))
        if once:
            return
        stop.wait(backoff)
    log.info("event=watch_stopped")
