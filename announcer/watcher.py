"""`salespipe watch`: poll the bucket and announce new objects on `sales.files`.

For stores that cannot notify Kafka themselves (moto, plain S3 without a bridge). Each poll
costs what is new, not the bucket's history:

- a cursor: S3 lists keys in order, so a poll asks only for keys after the greatest key
  announced so far (`StartAfter`): one request when nothing is new;
- a sweep every `WATCH_SWEEP_SECONDS` lists all of `incoming/` to catch what the cursor
  cannot see: a key that sorts before it (a back-filled day) or a new version of an old key.
  It announces only objects modified since the previous sweep (minus a safety margin);
- the state file keeps the cursor, the sweep watermark and the objects announced within
  that window (at most `MAX_RECENT`), so its size is bounded by the arrival rate.

State is written only after Kafka acknowledged the events: a restart re-announces at most
the last poll (duplicates are harmless, silence is not).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from announcer.announce import Announcer, S3Object
from salespipe import s3
from salespipe.retry import Backoff
from salespipe.settings import INCOMING_PREFIX, TOPIC_FILES, Settings, state_dir

log = logging.getLogger("salespipe.watch")

# LastModified is when an upload started (1 s resolution, the server's clock): a large
# multipart upload becomes visible minutes after it. The sweep looks back this far.
MARGIN_S = 900.0
MAX_RECENT = 5_000
STATE_VERSION = 2


class WatchState:
    """Cursor, sweep watermark and recently announced (key -> [etag, modified]), as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cursor = ""
        self.since: float | None = None  # objects modified before this were swept already
        self.last_sweep = 0.0
        self.recent: dict[str, list[Any]] = {}
        if path.exists():
            try:
                self._read(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                log.warning("event=state_unreadable path=%s action=reannounce_all", path)

    def _read(self, doc: Any) -> None:
        if doc.get("version") != STATE_VERSION:
            # The older format remembered every key ever seen: keep what it implies.
            self.cursor = max(doc, default="")
            self.since = time.time()
            return
        self.cursor = str(doc["cursor"])
        self.since = doc["since"]
        self.last_sweep = float(doc["last_sweep"])
        self.recent = {str(k): list(v) for k, v in doc["recent"].items()}

    def is_new(self, obj: S3Object) -> bool:
        return self.recent.get(obj.key, [None])[0] != obj.etag

    def mark(self, obj: S3Object, modified: float) -> None:
        self.recent[obj.key] = [obj.etag, modified]
        self.cursor = max(self.cursor, obj.key)

    def swept(self, started: float) -> None:
        self.since = started
        self.last_sweep = started
        self._prune()

    def _prune(self) -> None:
        if self.since is not None:
            floor = self.since - MARGIN_S
            self.recent = {k: v for k, v in self.recent.items() if v[1] >= floor}
        if len(self.recent) > MAX_RECENT:
            ordered = sorted(self.recent.items(), key=lambda kv: kv[1][1])
            dropped = ordered[: len(ordered) - MAX_RECENT]
            # What is forgotten must not be found again: the sweep window starts after it.
            self.since = max(self.since or 0.0, dropped[-1][1][1] + MARGIN_S + 1)
            self.recent = dict(ordered[len(dropped):])
            log.warning("event=watch_state_trimmed dropped=%d", len(dropped))

    def save(self) -> None:
        self._prune()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": STATE_VERSION, "cursor": self.cursor,
                                   "since": self.since, "last_sweep": self.last_sweep,
                                   "recent": self.recent}, separators=(",", ":")))
        tmp.replace(self.path)


def _list(client: Any, bucket: str, start_after: str = "") -> Iterator[tuple[S3Object, float]]:
    paginator = client.get_paginator("list_objects_v2")
    kwargs = {"StartAfter": start_after} if start_after else {}
    for page in paginator.paginate(Bucket=bucket, Prefix=INCOMING_PREFIX, **kwargs):
        for o in page.get("Contents", []):
            if not o["Key"].endswith("/"):
                yield (S3Object(o["Key"], o["ETag"].strip('"'), int(o["Size"])),
                       o["LastModified"].timestamp())


def poll_once(settings: Settings, client: Any, announcer: Announcer, state: WatchState,
              *, sweep: bool | None = None) -> int:
    """One poll: after the cursor, or (when due) a sweep. Returns how many were announced."""
    started = time.time()
    if sweep is None:
        sweep = state.since is None or started - state.last_sweep >= settings.WATCH_SWEEP_SECONDS
    if sweep:
        floor = None if state.since is None else state.since - MARGIN_S
        listing = ((o, m) for o, m in _list(client, settings.BUCKET_NAME)
                   if floor is None or m >= floor)
    else:
        listing = _list(client, settings.BUCKET_NAME, state.cursor)
    new = [(o, m) for o, m in listing if state.is_new(o)]
    for obj, _ in new:
        announcer.publish(obj)
    if new:
        announcer.flush()
        for obj, modified in new:
            state.mark(obj, modified)
            log.info("event=announced key=%s etag=%s size=%d", obj.key, obj.etag, obj.size)
    if sweep:
        state.swept(started)
        log.debug("event=swept announced=%d", len(new))
    if new or sweep:
        state.save()
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

    from announcer.announce import AnnounceInterrupted
    from salespipe.kafka import KafkaUnavailable

    client = s3.client(settings)
    announcer = Announcer(settings, topic, stop=stop)
    state = WatchState(state_path or state_dir() / f"watch-{settings.BUCKET_NAME}.json")
    log.info("event=watch_started bucket=%s interval_s=%s", settings.BUCKET_NAME, interval)
    backoff = Backoff(first=2 * interval, cap=30.0)
    while not stop.is_set():
        delay = interval
        try:
            announcer.poll()
            poll_once(settings, client, announcer, state)
            backoff.reset()
        except (BotoCoreError, ClientError) as exc:
            delay = backoff.next_delay()
            log.warning("event=s3_unavailable error=%s retry_in_s=%.1f", type(exc).__name__,
                        delay)
        except KafkaUnavailable as exc:
            delay = backoff.next_delay()
            log.warning("event=kafka_unavailable error=%r retry_in_s=%.1f", str(exc), delay)
        except AnnounceInterrupted as exc:
            log.info("event=watch_interrupted detail=%r", str(exc))
        if once:
            return
        stop.wait(delay)
    log.info("event=watch_stopped")
