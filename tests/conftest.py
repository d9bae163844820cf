"""Shared fixtures: the local services (started once per run) and isolated "worlds".

A world is a database, a bucket and a set of Kafka topics of its own, so tests never see each
other's data and can run beside `salespipe run` in the same checkout.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def base_settings():
    """Settings after `salespipe services up` (idempotent: `make test` already started them)."""
    from cli.local import manager
    from salespipe.settings import load_settings

    settings = load_settings()
    manager.up(settings, log=lambda _line: None)
    return load_settings()


@dataclass
class World:
    settings: object
    files_topic: str
    dlq_topic: str
    loads_topic: str
    env: dict[str, str]

    @property
    def topics(self):
        from loader.consumer import Topics

        return Topics(self.files_topic, self.dlq_topic, self.loads_topic)


def make_world(base_settings, name: str, partitions: int = 3, **services: str) -> World:
    """A world on the shared services, or on a server of the test's own where `services`
    says so (e.g. POSTGRES_PORT, BOOTSTRAP_SERVERS)."""
    from salespipe import db, kafka, s3
    from salespipe.settings import load_settings

    suffix = uuid.uuid4().hex[:8]
    dbname = f"t_{name}_{suffix}"
    bucket = f"t-{name.replace('_', '-')}-{suffix}"
    settings = load_settings(POSTGRES_DB=dbname, BUCKET_NAME=bucket, **services)
    db.ensure_database(settings, dbname)
    db.migrate(settings)
    s3.ensure_bucket(settings)
    files, dlq, loads = (f"t.{name}.{suffix}.{t}" for t in ("files", "dlq", "loads"))
    kafka.ensure_topics(settings, wanted={files: partitions, dlq: 1, loads: 1})
    env = {**os.environ, **settings.as_env()}
    return World(settings, files, dlq, loads, env)


@pytest.fixture
def world(base_settings, request) -> Iterator[World]:
    name = request.node.name.split("[")[0].removeprefix("test_")[:20]
    yield make_world(base_settings, name)
