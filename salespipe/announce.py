"""Publish S3 object-created events on `sales.files` (used by the watcher and `replay`)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from salespipe import kafka, s3
from salespipe.settings import INCOMING_PREFIX, TOPIC_FILES, Settings

log = logging.getLogger("salespipe.announce")


class AnnounceInterrupted(RuntimeError):
    """Shutdown was requested while events were still unacknowledged; they are not marked
    as announced, so the next start announces them again."""


@dataclass(frozen=True)
class S3Object:
    key: str
    etag: str
    size: int


def list_incoming(client: Any, bucket: str) -> Iterator[S3Object]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=INCOMING_PREFIX):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):
                continue
            yield S3Object(obj["Key"], obj["ETag"].strip('"'), int(obj["Size"]))


class Announcer:
    """An idempotent producer for `sales.files`, keyed by object key (one partition per key)."""

    def __init__(self, settings: Settings, topic: str = TOPIC_FILES,
                 stop: threading.Event | None = None) -> None:
        from confluent_kafka import Producer

        self.bucket = settings.BUCKET_NAME
        self.topic = topic
        self._stop = stop or threading.Event()
        self._producer = Producer(kafka.producer_config(settings))
        self._errors: list[str] = []

    def publish(self, obj: S3Object) -> None:
        from loader.events import make_event

        value = json.dumps(make_event(self.bucket, obj.key, obj.size, obj.etag)).encode()
        self._producer.produce(self.topic, key=obj.key.encode(), value=value,
                               on_delivery=self._delivered)
        self._producer.poll(0)

    def poll(self) -> None:
        """Serve the producer's callbacks: a fatal error (e.g. rejected credentials) raises
        `KafkaFatal` here even when there is nothing to announce."""
        self._producer.poll(0)

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            kafka.raise_if_fatal(err)  # e.g. no right to write the topic: retrying cannot help
            self._errors.append(str(err))

    def flush(self, timeout: float = 60.0) -> None:
        """Block until every event is acknowledged; raise if any was not. Waits in short
        slices so a shutdown request is honoured while the broker is unreachable."""
        deadline = time.monotonic() + timeout
        remaining = self._producer.flush(0)
        while remaining and time.monotonic() < deadline:
            if self._stop.is_set():
                raise AnnounceInterrupted(f"{remaining} event(s) unacknowledged at shutdown")
            remaining = self._producer.flush(min(0.2, max(deadline - time.monotonic(), 0)))
        if remaining or self._errors:
            errors, self._errors = self._errors, []
            raise kafka.KafkaUnavailable(
                f"{remaining} event(s) unsent, {len(errors)} failed: {'; '.join(errors[:3])}"
            )


def replay(settings: Settings, *, key: str | None = None, all_objects: bool = False) -> int:
    """Re-announce objects; the loader skips versions it already loaded, so this is safe."""
    client = s3.client(settings)
    announcer = Announcer(settings)
    if all_objects:
        objects = list(list_incoming(client, settings.BUCKET_NAME))
    else:
        assert key is not None
        head = client.head_object(Bucket=settings.BUCKET_NAME, Key=key)
        objects = [S3Object(key, head["ETag"].strip('"'), int(head["ContentLength"]))]
    for obj in objects:
        announcer.publish(obj)
    announcer.flush()
    log.info("event=replayed objects=%d", len(objects))
    return len(objects)
