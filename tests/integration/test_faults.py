"""Faults survived on the real services: each ends with every file loaded exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest

from cli.local import postgres as pg_service
from cli.local.process import StateFile, port_open, stop_pid
from tests.conftest import make_world
from tests.integration.kafka_cluster import start_own_broker
from tests.integration.loader_support import put, put_and_announce, query, sale, to_csv
from tests.integration.tcp_proxy import TcpProxy
from tests.integration.test_loader_processes import SALESPIPE, loader_cmd, wait_for

pytestmark = pytest.mark.integration


def rows_for(prefix: str, n: int = 5) -> bytes:
    return to_csv([sale(f"{prefix}-{i}") for i in range(n)])


def loaded_once(world, keys: list[str]) -> bool:
    got = query(world, "select key, count(*) from raw.files where status = 'loaded' group by key")
    return dict(got) == {k: 1 for k in keys}


def stop_loader(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    return proc.stderr.read() if proc.stderr else ""


@pytest.fixture
def own_kafka(tmp_path):
    """A broker of the test's own, started as `salespipe services up` starts the shared one
    (same jars, same configuration), so the test may stop it while other tests run."""
    base = tmp_path / "kafka"
    broker = SimpleNamespace(base=base, info=start_own_broker(base))
    try:
        yield broker
    finally:
        stop_pid(int(broker.info["pid"]), timeout=30)


@pytest.fixture
def own_postgres(tmp_path):
    """A PostgreSQL server of the test's own, started as the shared one is, to restart."""
    info = pg_service.start(tmp_path / "postgres", {})
    try:
        yield info
    finally:
        pg_service.stop(info)


def test_kafka_broker_down_for_20s_while_files_arrive(base_settings, own_kafka, tmp_path):
    world = make_world(base_settings, "kafka_down",
                       BOOTSTRAP_SERVERS=f"127.0.0.1:{own_kafka.info['port']}")
    watcher = subprocess.Popen([SALESPIPE, "watch", "--interval", "0.5", "--topic",
                                world.files_topic], env=world.env,
                               stderr=open(tmp_path / "watch.log", "w"))
    loader = subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                              stderr=open(tmp_path / "load.log", "w"))
    keys = [f"incoming/k{i}.csv" for i in range(6)]
    try:
        put(world, keys[0], rows_for("K0"))
        wait_for(lambda: loaded_once(world, keys[:1]))
        stop_pid(int(own_kafka.info["pid"]), timeout=30)
        outage_started = time.monotonic()
        for i, key in enumerate(keys[1:], start=1):
            put(world, key, rows_for(f"K{i}"))
            time.sleep(3)
        time.sleep(max(0.0, 20 - (time.monotonic() - outage_started)))
        own_kafka.info = start_own_broker(own_kafka.base, own_kafka.info)  # same ports
        wait_for(lambda: loaded_once(world, keys), timeout=180)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(60)
        stop_loader(loader)
    assert query(world, "select count(*) from raw.sales")[0][0] == 5 * len(keys)


def test_postgres_restarted_in_the_middle_of_a_load(base_settings, own_postgres):
    world = make_world(base_settings, "pg_restart", POSTGRES_PORT=str(own_postgres["port"]))
    n = 300_000
    put_and_announce(world, "incoming/big.csv", to_csv([sale(f"P{i}") for i in range(n)]))
    loader = subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: query(world, "select count(*) from pg_stat_activity where query "
                                      "ilike 'copy raw.sales%%'")[0][0] > 0)
        pg_service.restart(own_postgres)
        wait_for(lambda: loaded_once(world, ["incoming/big.csv"]), timeout=240)
    finally:
        logs = stop_loader(loader)
    assert "event=db_error" in logs or "event=db_unavailable" in logs
    assert query(world, "select count(*), count(distinct sale_id) from raw.sales")[0] == (n, n)


def test_s3_unreachable_for_a_while_is_retried_with_backoff(world, tmp_path):
    s3_port = int(StateFile().read()["s3"]["port"])
    proxy = TcpProxy(s3_port)
    env = dict(world.env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}")
    put_and_announce(world, "incoming/s3.csv", rows_for("S3"))
    log = tmp_path / "load.log"
    loader = subprocess.Popen(loader_cmd(world, "--no-dbt"), env=env, stderr=open(log, "w"),
                              text=True)
    try:
        # The loader has met the closed port and is retrying (an event, not a fixed sleep).
        wait_for(lambda: "event=s3_retry" in log.read_text(), timeout=120)
        assert query(world, "select count(*) from raw.files")[0][0] == 0
        proxy.up()
        wait_for(lambda: loaded_once(world, ["incoming/s3.csv"]), timeout=120)
    finally:
        stop_loader(loader)
        proxy.down()
    assert "event=s3_retry" in log.read_text()
    assert port_open(s3_port)


def test_failing_dbt_build_keeps_data_reports_and_recovers(world, tmp_path):
    import shutil

    from tests.integration.loader_support import consume_all

    project = tmp_path / "dbt_sales"
    shutil.copytree("dbt_sales", project, ignore=shutil.ignore_patterns("target", "logs"))
    failing = project / "tests" / "assert_no_poison_sale.sql"
    failing.write_text("select * from {{ ref('fct_sales') }} where sale_id = 'POISON'\n")
    env = dict(world.env, DBT_PROJECT_DIR=str(project))
    put_and_announce(world, "incoming/first.csv", to_csv([sale("OK-0", day="2026-02-28")]))
    loader = subprocess.Popen(loader_cmd(world), env=env, stderr=subprocess.PIPE, text=True)
    try:
        def summaries() -> list[dict]:
            return [json.loads(m.value()) for m in consume_all(world, world.loads_topic, 5)]

        def dbt_reported() -> list[dict]:
            return [s["dbt"] for s in summaries() if s["dbt"]]

        def next_csv_built() -> bool:
            # The retry of the failed build may succeed before next.csv is loaded, so wait for
            # the summary of the batch that holds next.csv, not for any success.
            return any(s["dbt"] and s["dbt"]["success"]
                       and any(f["key"] == "incoming/next.csv" for f in s["files"])
                       for s in summaries())

        wait_for(lambda: any(d["success"] for d in dbt_reported()), timeout=240)  # marts exist
        put_and_announce(world, "incoming/poison.csv", to_csv([sale("POISON"), sale("OK-1")]))
        wait_for(lambda: any(not d["success"] for d in dbt_reported()), timeout=240)
        assert query(world, "select count(*) from raw.sales")[0][0] == 3  # loaded data stays
        failing.unlink()  # the fix lands; the pending build is retried
        put_and_announce(world, "incoming/next.csv", to_csv([sale("OK-2", day="2026-03-02")]))
        wait_for(next_csv_built, timeout=240)
    finally:
        logs = stop_loader(loader)
    assert "event=dbt_build success=False" in logs
    got = query(world, "select count(*) from marts.fct_sales")[0][0]
    assert got == 4
    # The KPI marts the failed build skipped catch up on its day too: a failed build marks no
    # file built, so poison.csv was in the next build's window again.
    assert query(world, "select sale_date::text, transactions from marts.kpi_daily_sales "
                        "order by 1") == [("2026-02-28", 1), ("2026-03-01", 2),
                                          ("2026-03-02", 1)]
