"""Publish S3 object-created events on `sales.files` (used by the watcher and `replay`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from salespipe import kafka, s3
from salespipe.contract import PROCESSED_PREFIX, REJECTED_PREFIX
from salespipe.logs import get_logger
from salespipe.s3 import announced_etag, archived_candidates
from salespipe.settings import INCOMING_PREFIX, TOPIC_FILES, Settings

log = get_logger("announcer.announce")


class AnnounceInterrupted(RuntimeError):
    """Shutdown was requested while events were still unacknowledged; they are not marked
    as announced, so the next start announces them again."""


@dataclass(frozen=True)
class S3Object:
    key: str
    etag: str
    size: int


def list_incoming(client: Any, bucket: str, prefix: str = INCOMING_PREFIX) -> Iterator[S3Object]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
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


@dataclass(frozen=True)
class ReplayItem:
    obj: S3Object
    modified_at: datetime


def select_objects(client: Any, bucket: str, *, key: str | None = None,
                   prefix: str | None = None, since: datetime | None = None) -> list[ReplayItem]:
    """The objects a replay covers: one `key`, or every object under `incoming/` whose key
    starts with `prefix` (relative to `incoming/` unless it starts with it) and that was
    modified at or after `since` (an aware datetime), oldest first. An object a load moved
    to processed/ or rejected/ (`S3_AFTER_LOAD=move`) counts under its original key and ETag."""
    if key is not None:
        items = [_find(client, bucket, key)]
    else:
        relative = (prefix or "").removeprefix(INCOMING_PREFIX)
        found: dict[str, ReplayItem] = {}
        for area in (INCOMING_PREFIX, PROCESSED_PREFIX, REJECTED_PREFIX):
            for page in client.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=area + relative):
                for o in page.get("Contents", []):
                    original = INCOMING_PREFIX + o["Key"].removeprefix(area)
                    if o["Key"].endswith("/") or original in found:
                        continue
                    etag = o["ETag"].strip('"')
                    if area != INCOMING_PREFIX:  # announced under the ETag it was loaded with
                        etag = announced_etag(client.head_object(Bucket=bucket, Key=o["Key"]))
                    found[original] = ReplayItem(S3Object(original, etag, int(o["Size"])),
                                                 o["LastModified"])
        items = list(found.values())
    if since is not None:
        items = [i for i in items if i.modified_at >= since]
    return sorted(items, key=lambda i: (i.modified_at, i.obj.key))


def _find(client: Any, bucket: str, key: str) -> ReplayItem:
    """The object announced under `key`: still in incoming/, or where a load moved it."""
    from botocore.exceptions import ClientError

    for location in [key, *archived_candidates(key)]:
        try:
            head = client.head_object(Bucket=bucket, Key=location)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                continue
            raise
        obj = S3Object(key, announced_etag(head), int(head["ContentLength"]))
        return ReplayItem(obj, head["LastModified"])
    client.head_object(Bucket=bucket, Key=key)  # raises the original "not found"
    raise AssertionError("unreachable")


def replay(settings: Settings, *, key: str | None = None, all_objects: bool = False,
           prefix: str | None = None, since: datetime | None = None, dry_run: bool = False,
           topic: str = TOPIC_FILES) -> list[ReplayItem]:
    """Re-announce objects (all, one key, or those matching `prefix` / `since`); the loader
    skips versions it already loaded, so this is safe. `dry_run` only lists them."""
    if key is None and not (all_objects or prefix or since):
        raise ValueError("replay needs a key, all_objects, a prefix or a since")
    items = select_objects(s3.client(settings), settings.BUCKET_NAME, key=key, prefix=prefix,
                           since=since)
    if dry_run or not items:
        return items
    announcer = Announcer(settings, topic)
    for item in items:
        announcer.publish(item.obj)
    announcer.flush()
    log.info("replayed", objects=len(items), topic=topic)
    return items


def make_event(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    """The AWS S3 event-notification shape the watcher and `replay` publish."""
    from urllib.parse import quote_plus

    return {
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                "object": {"key": quote_plus(key, safe="/"), "size": size,
                           "eTag": etag.strip('"')},
            },
        }]
    }
