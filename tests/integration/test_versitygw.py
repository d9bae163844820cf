"""On versitygw, a real S3 server that publishes its own bucket notifications to Kafka: the
loader consumes them unchanged (no watcher), and the watcher's inbox poll works there too."""

from __future__ import annotations

import dataclasses

import pytest

from cli.local.versitygw import settings_for, start_gateway
from tests.integration.loader_support import consume_all, query, run_loader, sale, to_csv

pytestmark = pytest.mark.integration


@pytest.fixture
def gw_world(world):
    """The world with S3 on a versitygw that announces every bucket event on its files topic."""
    from salespipe import s3

    gateway = start_gateway(kafka_url=world.settings.bootstrap_servers, topic=world.files_topic)
    try:
        settings = settings_for(gateway, world.settings)
        s3.ensure_bucket(settings)
        yield dataclasses.replace(world, settings=settings), gateway
    finally:
        gateway.stop()


def _keys(settings, prefix: str) -> list[str]:
    from salespipe import s3

    resp = s3.client(settings).list_objects_v2(Bucket=settings.BUCKET_NAME, Prefix=prefix)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def test_the_server_s_own_notifications_are_loaded_unchanged(gw_world):
    from salespipe import s3

    world, gateway = gw_world
    client = s3.client(world.settings)
    # A pt-BR spreadsheet export's name (space, accents, parentheses) and a plain one; versitygw
    # sends such keys as stored, where AWS would URL-encode them.
    uploads = {"incoming/relatório março (loja 1).csv": [sale("S1"), sale("S2")],
               "incoming/sales_2026-03-02.csv": [sale("S3", day="2026-03-02")]}
    etags = {}
    for key, rows in uploads.items():
        etags[key] = client.put_object(Bucket=world.settings.BUCKET_NAME, Key=key,
                                       Body=to_csv(rows))["ETag"].strip('"')
    run_loader(world, idle=3.0)
    got = query(world, "select key, etag, status, rows_valid from raw.files order by key")
    assert got == sorted((k, etags[k], "loaded", len(r)) for k, r in uploads.items())
    assert query(world, "select count(*) from raw.sales")[0][0] == 3
    # The server also announced its start-up test event and, for each move to processed/, a
    # copy and a deletion: none of them is an error, none is dead-lettered.
    assert consume_all(world, world.dlq_topic, timeout=3.0) == []
    assert _keys(world.settings, "incoming/") == []
    assert _keys(world.settings, "processed/") == sorted(
        k.replace("incoming/", "processed/") for k in uploads)
    # A second run sees those copy/delete events again and loads nothing twice.
    run_loader(world, idle=3.0)
    assert query(world, "select count(*) from raw.files")[0][0] == 2


def test_the_watcher_announces_keys_in_any_order_on_a_real_server(world):
    from announcer.announce import Announcer
    from announcer.watcher import WatchState, poll_once
    from salespipe import s3

    gateway = start_gateway()  # no notifications: the watcher is the only announcer
    try:
        settings = settings_for(gateway, world.settings)
        s3.ensure_bucket(settings)
        client = s3.client(settings)
        announcer = Announcer(settings, world.files_topic)
        state = WatchState(gateway.base / "watch.json")
        for key in ["incoming/store-12/2026-03-05.csv", "incoming/store-01/2026-03-05.csv",
                    "incoming/store-01/2026-02-01.csv"]:
            client.put_object(Bucket=settings.BUCKET_NAME, Key=key, Body=key.encode())
            assert poll_once(settings, client, announcer, state) == 1, key
        assert poll_once(settings, client, announcer, state) == 0
    finally:
        gateway.stop()
