"""Past one broker: the loader on a three-broker cluster (replication factor 3,
min.insync.replicas=2, as hosted Kafka runs) survives the loss of a broker mid-burst, and
topics created with `KAFKA_REPLICATION_FACTOR=-1` take the brokers' default replication."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import World
from tests.integration.kafka_cluster import KafkaCluster
from tests.integration.loader_support import put_and_announce, query, sale, to_csv

pytestmark = pytest.mark.integration

SALESPIPE = str(Path(sys.executable).parent / "salespipe")
FILES, KILL_AFTER = 16, 6


@pytest.fixture
def cluster(tmp_path):
    c = KafkaCluster(tmp_path / "kafka")
    c.start()
    yield c
    c.stop()


@pytest.fixture
def cluster_rf2(tmp_path):
    """Brokers whose `default.replication.factor` is 2: neither a hard-coded 1 nor the
    cluster's size (3) would give it."""
    c = KafkaCluster(tmp_path / "kafka", default_replication_factor=2)
    c.start()
    yield c
    c.stop()


def test_topics_created_with_the_default_setting_get_the_brokers_default_replication(cluster_rf2):
    from confluent_kafka.admin import AdminClient

    from salespipe import kafka
    from salespipe.settings import load_settings

    settings = load_settings(BOOTSTRAP_SERVERS=cluster_rf2.bootstrap, KAFKA_TOPIC_PARTITIONS=3)
    assert settings.KAFKA_REPLICATION_FACTOR == -1  # the default: the broker decides
    prefix = f"t.rf.{uuid.uuid4().hex[:8]}"
    plan = kafka.topic_plan(settings, f"{prefix}.files", f"{prefix}.dlq", f"{prefix}.loads")
    assert sorted(kafka.ensure_topics(settings, timeout=60, wanted=plan)) == sorted(plan)

    admin = AdminClient(kafka.client_config(settings))
    # A broker learns of a new topic a moment after the controller: ask until all know it.
    deadline = time.monotonic() + 30
    while not set(plan) <= set((meta := admin.list_topics(timeout=10)).topics):
        assert time.monotonic() < deadline, f"{sorted(plan)} not in {sorted(meta.topics)}"
        time.sleep(0.2)
    brokers = {n.node_id for n in cluster_rf2.nodes}
    replicas = {name: [meta.topics[name].partitions[p].replicas
                       for p in sorted(meta.topics[name].partitions)] for name in plan}
    assert {name: len(parts) for name, parts in replicas.items()} == plan, replicas
    for name, parts in replicas.items():
        for r in parts:  # two distinct brokers of the cluster hold each partition
            assert len(r) == 2 and len(set(r)) == 2 and set(r) <= brokers, (name, replicas)


def cluster_world(cluster: KafkaCluster) -> World:
    """A database and bucket of its own, topics on the cluster with RF 3 and min ISR 2."""
    import os

    from confluent_kafka.admin import AdminClient, NewTopic

    from salespipe import db, s3
    from salespipe.kafka import client_config
    from salespipe.settings import load_settings

    suffix = uuid.uuid4().hex[:8]
    settings = load_settings(POSTGRES_DB=f"t_cluster_{suffix}", BUCKET_NAME=f"t-cluster-{suffix}",
                             BOOTSTRAP_SERVERS=cluster.bootstrap)
    db.ensure_database(settings, settings.pg_db)
    db.migrate(settings)
    s3.ensure_bucket(settings)
    names = [f"t.cluster.{suffix}.{t}" for t in ("files", "dlq", "loads")]
    admin = AdminClient(client_config(settings))
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=3 if name.endswith("files") else 1, replication_factor=3,
                  config={"min.insync.replicas": "2"}) for name in names],
        operation_timeout=60,
    )
    for fut in futures.values():
        fut.result()
    return World(settings, *names, env={**os.environ, **settings.as_env()})


def coordinator_of(world: World, group: str) -> int:
    from confluent_kafka.admin import AdminClient

    from salespipe.kafka import client_config

    admin = AdminClient(client_config(world.settings))
    return admin.describe_consumer_groups([group])[group].result(timeout=30).coordinator.id


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not reached within {timeout:.0f}s")


def test_killing_a_broker_mid_burst_loses_and_doubles_no_file(cluster):
    world = cluster_world(cluster)
    group = f"g-{world.files_topic}"
    loader = subprocess.Popen(
        [SALESPIPE, "load", "--group", group, "--files-topic", world.files_topic,
         "--dlq-topic", world.dlq_topic, "--loads-topic", world.loads_topic],
        env=world.env, stderr=subprocess.PIPE, text=True,
    )
    expected: dict[str, dict[str, Decimal | int]] = defaultdict(
        lambda: {"total_sales": Decimal(0), "transactions": 0, "units_sold": 0}
    )
    killed = None
    try:
        for i in range(FILES):
            day = f"2026-05-{1 + i % 4:02d}"
            rows = [sale(f"K{i}-{j}", day=day, qty=1 + j % 4, price=f"{10 + i}.{j:02d}",
                         status="Canceled" if j == 0 else "Paid") for j in range(25)]
            for r in rows:
                if r["payment_status"] != "Canceled":
                    expected[day]["total_sales"] += Decimal(r["total_value"])
                    expected[day]["transactions"] += 1
                    expected[day]["units_sold"] += int(r["quantity_sold"])
            put_and_announce(world, f"incoming/k{i:02d}.csv", to_csv(rows))
            if i + 1 == KILL_AFTER:
                # The group coordinator is the broker whose loss the loader feels most.
                wait_for(lambda: query(world, "select count(*) from raw.files")[0][0] > 0, 180,
                         "first file loaded before the kill")
                killed = coordinator_of(world, group)
                cluster.kill(killed)
        wait_for(lambda: query(world, "select count(*) from raw.files")[0][0] >= FILES, 300,
                 "every file loaded")
        want = [
            (day, v["total_sales"], v["transactions"],
             (v["total_sales"] / v["transactions"]).quantize(Decimal("0.01"), ROUND_HALF_UP),
             v["units_sold"])
            for day, v in sorted(expected.items())
        ]
        sql = ("select sale_date::text, total_sales, transactions, avg_ticket, units_sold "
               "from marts.kpi_daily_sales order by sale_date")

        def marts_match() -> bool:
            try:
                return query(world, sql) == want
            except psycopg.errors.UndefinedTable:  # before the first build
                return False

        wait_for(marts_match, 300, "marts equal the files")
    finally:
        loader.terminate()
        try:
            _, err = loader.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            loader.kill()
            _, err = loader.communicate()
    assert killed is not None and cluster.node(killed).pid is not None
    counts = query(world, "select key, status, count(*) from raw.files group by key, status")
    assert sorted(k for k, _, _ in counts) == [f"incoming/k{i:02d}.csv" for i in range(FILES)]
    assert all(status == "loaded" and n == 1 for _, status, n in counts), counts
    assert query(world, "select count(*), count(distinct sale_id) from raw.sales")[0] == (
        FILES * 25, FILES * 25), err[-3000:]
    assert loader.returncode == 0, err[-3000:]
