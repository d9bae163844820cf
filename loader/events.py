"""S3 event notifications (AWS and MinIO shapes) -> the objects to load."""

from __future__ import annotations

import json
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


def parse_event(value: bytes | None) -> list[ObjectRef]:
    """Every record of one message; raises InvalidEvent for anything that is not an S3 event."""
    if not value:
        raise InvalidEvent("empty message")
    try:
        doc: Any = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidEvent("not a JSON object")
    try:
        envelope = _Envelope.model_validate(doc)  # MinIO's wrapper also carries "Records"
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidEvent(f"not an S3 event: {where}: {first['msg']}") from exc
    return [
        ObjectRef(
            bucket=r.s3.bucket.name,
            key=unquote_plus(r.s3.object.key),
            etag=(r.s3.object.eTag or "").strip('"') or None,
            size=r.s3.object.size,
            event_name=r.eventName.removeprefix("s3:"),
        )
        for r in envelope.Records
    ]


def is_loadable(ref: ObjectRef) -> bool:
    """Only object creation under incoming/ is ours; other events are ignored, not errors."""
    return ref.event_name.startswith("ObjectCreated:") and ref.key.startswith(INCOMING_PREFIX)
