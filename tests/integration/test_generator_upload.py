"""`salespipe generate --upload` against the configured S3 (local moto by default).

Uses a throw-away bucket, not `BUCKET_NAME`, so a running watcher/loader never sees these files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from generator.cli import run_generate
from salespipe import s3 as s3_client
from salespipe.settings import Settings

pytestmark = pytest.mark.integration
DAY = dt.date(2026, 2, 3)


@pytest.fixture
def scratch(base_settings: Settings) -> Iterator[tuple[Settings, Any]]:
    """A bucket of its own on the services `base_settings` (tests/conftest.py) made sure of."""
    settings = base_settings.model_copy(
        update={"BUCKET_NAME": f"salespipe-test-gen-{uuid.uuid4().hex[:12]}"}
    )
    s3 = s3_client.client(settings, max_attempts=1, connect_timeout=2)
    s3.create_bucket(Bucket=settings.BUCKET_NAME)
    yield settings, s3
    for obj in s3.list_objects_v2(Bucket=settings.BUCKET_NAME).get("Contents", []):
        s3.delete_object(Bucket=settings.BUCKET_NAME, Key=obj["Key"])
    s3.delete_bucket(Bucket=settings.BUCKET_NAME)


def _args(seed: int | None) -> argparse.Namespace:
    return argparse.Namespace(date=DAY, days=1, rows=500, seed=seed, out=None, upload=True)


def _keys(settings: Settings, s3: Any) -> list[str]:
    listing = s3.list_objects_v2(Bucket=settings.BUCKET_NAME, Prefix="incoming/")
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def test_seeded_upload_overwrites_the_plain_key_with_the_same_bytes(scratch: Any) -> None:
    settings, s3 = scratch
    assert run_generate(_args(seed=1), settings) == 0
    first = s3.get_object(Bucket=settings.BUCKET_NAME, Key="incoming/sales_2026-02-03.csv")
    body = first["Body"].read()
    assert run_generate(_args(seed=1), settings) == 0
    assert _keys(settings, s3) == ["incoming/sales_2026-02-03.csv"]
    again = s3.get_object(Bucket=settings.BUCKET_NAME, Key="incoming/sales_2026-02-03.csv")
    assert again["Body"].read() == body
    assert body.startswith(b"Sale Date,Sale ID,")
    assert body.count(b"\n") == 501


def test_unseeded_upload_never_overwrites(scratch: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings, s3 = scratch
    for _ in range(3):
        assert run_generate(_args(seed=None), settings) == 0
    keys = _keys(settings, s3)
    assert len(keys) == 3
    assert keys[0].startswith("incoming/sales_2026-02-03")
    printed = capsys.readouterr().out.splitlines()
    assert sorted(line.split(" ")[0] for line in printed) == sorted(
        f"s3://{settings.BUCKET_NAME}/{key}" for key in keys
    )
