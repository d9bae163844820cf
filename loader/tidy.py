"""Keep the bucket tidy: after a file's transaction committed, tag or move its object.

`S3_AFTER_LOAD`:
  move  (default) a loaded object goes to `processed/<name>`, a rejected one to
        `rejected/<name>`, so `incoming/` is an inbox of what is pending (the watcher lists
        only that). The copy carries the loaded version's ETag as metadata
        (`salespipe-etag`) and `raw.files.moved_to` records where it went, so `replay` and
        the already-loaded check still recognise the version under its original key. An
        object skipped as already loaded (the same bytes uploaded again) is moved too.
  tag   the object stays in `incoming/` with tags `salespipe-status` (loaded | rejected)
        and `salespipe-file-id`; nothing moves, so nothing else has to know.
  none  leave objects alone.

All of this runs only after the commit: a failed transaction leaves the object untouched,
and a failure here is logged, never raised (the data is safe; the object just stays put).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from loader.download import Downloaded, download
from loader.events import ObjectRef
from loader.parse import FileRejected
from salespipe.logs import get_logger
from salespipe.s3 import ETAG_METADATA, announced_etag, archived_key  # noqa: F401

log = get_logger("loader.tidy")

def moved_location(conn: psycopg.Connection, ref: ObjectRef) -> str | None:
    """Where an earlier load moved this version of the object, if it did."""
    with conn.transaction():
        row = conn.execute(
            """
            select moved_to from raw.files
             where key = %s and moved_to is not null and (%s::text is null or etag = %s)
             order by file_id desc limit 1
            """,
            (ref.key, ref.etag, ref.etag),
        ).fetchone()
    return None if row is None else str(row[0])


def fetch(conn: psycopg.Connection, client: Any, ref: ObjectRef, workdir: Path,
          stop: threading.Event) -> tuple[Downloaded, str]:
    """Download the announced object; if it is gone because a load moved it (a replay of a
    rejected file), from where it went. Returns the object and the key it was read from."""
    try:
        return download(client, ref.bucket, ref.key, workdir, stop), ref.key
    except FileRejected:
        moved = moved_location(conn, ref)
        if moved is None or moved == ref.key:
            raise
    obj = download(client, ref.bucket, moved, workdir, stop)
    log.info("read_moved_object", key=ref.key, **{"from": moved})
    # A copy of a multipart upload gets a new ETag; the version is still the announced one.
    return (replace(obj, etag=ref.etag) if ref.etag else obj), moved


class Tidy:
    """Applies `S3_AFTER_LOAD` to each file outcome (call it after the commit only)."""

    def __init__(self, mode: str, client: Any, bucket: str) -> None:
        self.mode = mode
        self.client = client
        self.bucket = bucket

    def after_load(self, conn: psycopg.Connection, outcome: Any) -> None:
        if outcome.status == "skipped" and self.mode == "move":
            # Already loaded: a redelivery (the object is gone, `_move` does nothing), or the
            # same bytes uploaded again under the same key. Those must leave the inbox too,
            # or the watcher would list them on every poll for ever.
            outcome = replace(outcome, status="loaded")
        if self.mode == "none" or outcome.status not in ("loaded", "rejected"):
            return
        source = outcome.source_key or outcome.key
        try:
            if self.mode == "tag":
                self._tag(source, outcome)
            else:
                self._move(conn, source, outcome)
        except (BotoCoreError, ClientError, psycopg.Error) as exc:
            # The data is committed; the object merely stays where it is.
            log.warning("tidy_failed", key=outcome.key, mode=self.mode, error=_code(exc))

    def _current_etag(self, key: str) -> tuple[str | None, dict[str, Any]]:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None, {}
            raise
        return head["ETag"].strip('"'), head

    def _tag(self, key: str, outcome: Any) -> None:
        etag, _ = self._current_etag(key)
        if etag != outcome.etag:  # gone, or replaced by a newer version that has its own event
            return
        tags = [{"Key": "salespipe-status", "Value": outcome.status}]
        if outcome.file_id is not None:
            tags.append({"Key": "salespipe-file-id", "Value": str(outcome.file_id)})
        self.client.put_object_tagging(Bucket=self.bucket, Key=key, Tagging={"TagSet": tags})
        log.info("object_tagged", key=key, status=outcome.status)

    def _move(self, conn: psycopg.Connection, source: str, outcome: Any) -> None:
        target = archived_key(outcome.key, outcome.status)
        if source != target:
            etag, head = self._current_etag(source)
            if etag is None:
                return  # deleted, or already moved by an earlier delivery
            if etag != outcome.etag and source == outcome.key:
                return  # a newer version arrived meanwhile: leave it for its own event
            metadata = {**head.get("Metadata", {}), ETAG_METADATA: outcome.etag}
            self.client.copy_object(
                Bucket=self.bucket, Key=target,
                CopySource={"Bucket": self.bucket, "Key": source}, CopySourceIfMatch=etag,
                MetadataDirective="REPLACE", Metadata=metadata,
                ContentType=head.get("ContentType", "text/csv"),
            )
            # Re-check right before deleting, so a version uploaded during the copy survives.
            if self._current_etag(source)[0] == etag:
                self.client.delete_object(Bucket=self.bucket, Key=source)
        conn.execute("update raw.files set moved_to = %s where key = %s and etag = %s",
                     (target, outcome.key, outcome.etag))
        log.info("object_moved", key=outcome.key, to=target, status=outcome.status)



def _code(exc: Any) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) or type(exc).__name__


def with_source(outcome: Any, source: str) -> Any:
    """The outcome, remembering where the object was read from when that was not its key."""
    return outcome if source == outcome.key else replace(outcome, source_key=source)
