"""S3 event notifications (AWS, MinIO and versitygw shapes) -> the objects to load.

Servers disagree on one detail: AWS and MinIO URL-encode the object key in the event
(`relat%C3%B3rio+mar%C3%A7o.csv`), versitygw sends it as stored (`relatório março.csv`).
`event_key` tells them apart by what an encoded key cannot contain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from salespipe.settings import INCOMING_PREFIX


class InvalidEvent(ValueError):
    """The message is not an S3 event notification; it goes to the DLQ with this text."""


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    etag: str | None
    size: int | None
    event_name: str


class _S3Object(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    key: str = Field(min_length=1)
    size: int | None = None
    eTag: str | None = None  # noqa: N815 - AWS field name


class _S3Bucket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)


class _S3Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: _S3Bucket
    object: _S3Object


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")
    eventName: str  # noqa: N815
    s3: _S3Entity


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Records: list[_Record] = Field(min_length=1)  # noqa: N815


# What a URL-encoded key may hold: unreserved characters, sub-delimiters, "/" and escapes.
_ENCODED_KEY = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


def event_key(key: str) -> str:
    """The object key an event names. A key with a space, a non-ASCII character or a stray
    "%" cannot be URL-encoded, so it is taken as stored; any other key is decoded. A key
    stored with "+" or "%XX" and nothing else unusual, sent unencoded, is the one case this
    reads wrongly (the download then fails with the key it looked for, and the file is
    marked rejected with that reason)."""
    return unquote_plus(key) if _ENCODED_KEY.fullmatch(key) else key


def parse_event(value: bytes | None) -> list[ObjectRef]:
    """Every record of one message; raises InvalidEvent for anything that is not an S3 event.
    The test message a store sends when notifications are set up (`s3:TestEvent`) holds no
    object: it yields none."""
    if not value:
        raise InvalidEvent("empty message")
    try:
        doc: Any = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidEvent("not a JSON object")
    if doc.get("Event") == "s3:TestEvent" and "Records" not in doc:
        return []
    try:
        envelope = _Envelope.model_validate(doc)  # MinIO's wrapper also carries "Records"
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidEvent(f"not an S3 event: {where}: {first['msg']}") from exc
    return [
        ObjectRef(
            bucket=r.s3.bucket.name,
            key=event_key(r.s3.object.key),
            etag=(r.s3.object.eTag or "").strip('"') or None,
            size=r.s3.object.size,
            event_name=r.eventName.removeprefix("s3:"),
        )
        for r in envelope.Records
    ]


def is_loadable(ref: ObjectRef) -> bool:
    """Only object creation under incoming/ is ours; other events are ignored, not errors."""
    return ref.event_name.startswith("ObjectCreated:") and ref.key.startswith(INCOMING_PREFIX)
