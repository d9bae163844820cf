"""Fetch an announced object to a local temporary file (bounded memory, retried on outages)."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from loader.parse import FileRejected
from salespipe.logs import get_logger
from salespipe.retry import Backoff

log = get_logger("loader.download")

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class Downloaded:
    path: Path
    etag: str
    size: int
    modified_at: datetime | None


class Stopped(RuntimeError):
    """Shutdown was requested while waiting for S3; the message will be redelivered."""


def download(client: Any, bucket: str, key: str, workdir: Path, stop: threading.Event) -> Downloaded:
    """Stream the object to disk. A missing object rejects the file; an outage is retried forever
    with capped exponential backoff (the Kafka offset is not committed meanwhile, so nothing is lost)."""
    from botocore.exceptions import BotoCoreError, ClientError

    backoff = Backoff(cap=MAX_BACKOFF_S)
    while True:
        try:
            resp = client.get_object(Bucket=bucket, Key=key)
            with tempfile.NamedTemporaryFile(dir=workdir, suffix=_suffix(key), delete=False) as fh:
                for block in resp["Body"].iter_chunks(1 << 20):
                    fh.write(block)
                path = Path(fh.name)
            return Downloaded(path, resp["ETag"].strip('"'), path.stat().st_size,
                              resp.get("LastModified"))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise FileRejected("object not found: deleted before it could be loaded") from exc
            if code in {"NoSuchBucket", "AccessDenied", "403"}:
                raise FileRejected(f"object not readable: {code}") from exc
            error = code or type(exc).__name__
        except BotoCoreError as exc:
            error = type(exc).__name__
        delay = backoff.next_delay()
        log.warning("s3_retry", key=key, error=error, retry_in_s=round(delay, 1))
        if backoff.wait(stop, delay):
            raise Stopped(key)


def _suffix(key: str) -> str:
    """The key's extension(s) for the scratch file (e.g. ".csv.gz"), so a person looking at
    the work directory sees what was downloaded; the format itself is decided from the key."""
    name = key.rsplit("/", 1)[-1]
    suffixes = "".join(Path(name).suffixes[-2:])
    return suffixes if len(suffixes) <= 16 and suffixes.isascii() else ""
