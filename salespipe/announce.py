"""Publish S3 object-created events on `sales.files` (used by the watcher and `replay`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from salespipe import kafka, s3
from salespipe.settings import INCOMING_PREFIX, TOPIC_FILES, Settings

log = logging.getLogger("salespipe.announce")


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

    def __init__(self, settings: Settings, topic: str = TOPIC_FILES) -> None:
        from confluent_kafka import Producer

        self.bucket = settings.BUCKET_NAME
        self.topic = topic
        self._producer = Producer(kafka.producer_config(settings))
        self._errors: list[str] = []

    def publish(self, obj: S3Object) -> None:
        from loader.events import make_event

        value = json.dumps(make_event(self.bucket, obj.key, obj.size, obj.etag)).encode()
        self._producer.produce(self.topic, key=obj.key.encode(), value=value,
                               on_delivery=self._delivered)
        self._producer.poll(0)

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._errors.append(str(err))

    def flush(self, timeout: float = 60.0) -> None:
        """Block until every event is acknowledged; raise if any was not."""
        remaining = self._producer.flush(timeout)
        if remaining or self._errors:
            errors, self._errors = self._errors, []
            raise kafka.KafkaUnavailable(
                f"{remaining} event(s) unsent, {len(errors)} failed: {'; '.join(errors[:3])}"
            )


def replay(settings: Settings, *, key: str | None = None, all_objects: bool = False,
           topic: str = TOPIC_FILES) -> int:
    """Re-announce objects; the loader skips versions it already loaded, so this is safe."""
    client = s3.client(settings)
    announcer = Announcer(settings, topic)
    if all_objects:
        objects = _replayable(client, settings.BUCKET_NAME)
    else:
        assert key is not None
        objects = [_find(client, settings.BUCKET_NAME, key)]
    for obj in objects:
        announcer.publish(obj)
    announcer.flush()
    log.info("event=replayed objects=%d", len(objects))
    return len(objects)


def _find(client: Any, bucket: str, key: str) -> S3Object:
    """The object announced under `key`: still in incoming/, or where a load moved it
    (`S3_AFTER_LOAD=move`), announced under its original key and ETag."""
    from botocore.exceptions import ClientError

    from loader.tidy import announced_etag, archived_candidates

    for location in [key, *archived_candidates(key)]:
        try:
            head = client.head_object(Bucket=bucket, Key=location)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                continue
            raise
        return S3Object(key, announced_etag(head), int(head["ContentLength"]))
    return S3Object(key, *_head(client, bucket, key))  # raises the original "not found"


def _head(client: Any, bucket: str, key: str) -> tuple[str, int]:
    head = client.head_object(Bucket=bucket, Key=key)
    return head["ETag"].strip('"'), int(head["ContentLength"])


def _replayable(client: Any, bucket: str) -> list[S3Object]:
    """Every object under incoming/, plus those a load moved to processed/ or rejected/."""
    from loader.tidy import PROCESSED_PREFIX, REJECTED_PREFIX, announced_etag

    found = {o.key: o for o in list_incoming(client, bucket)}
    for prefix in (PROCESSED_PREFIX, REJECTED_PREFIX):
        for moved in list_incoming(client, bucket, prefix):
            key = INCOMING_PREFIX + moved.key.removeprefix(prefix)
            if key not in found:  # announced under its original key and recorded ETag
                head = client.head_object(Bucket=bucket, Key=moved.key)
                found[key] = S3Object(key, announced_etag(head), moved.size)
    return list(found.values())
