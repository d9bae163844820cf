"""dbt builds run beside the consume loop: a file announced while the start-up catch-up build
is still running is loaded at once, and a later build puts it in the marts."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess

import psycopg
import pytest

from tests.integration.loader_support import (
    consume_all,
    put_and_announce,
    query,
    run_loader,
    sale,
    to_csv,
)
from tests.integration.test_loader_processes import loader_cmd, wait_for

pytestmark = pytest.mark.integration


def _gated_project(tmp_path, lock_id: int):
    """The real dbt project plus one model that waits for an advisory lock the test holds:
    while the test holds it, the build cannot finish, whatever the machine's speed."""
    project = tmp_path / "dbt_sales"
    shutil.copytree("dbt_sales", project, ignore=shutil.ignore_patterns("target", "logs"))
    gate = project / "models" / "test_gate"
    gate.mkdir()
    (gate / "build_gate.sql").write_text(
        "{{ config(materialized='table', schema='staging') }}\n"
        f"select 1 as opened from (select pg_advisory_xact_lock({lock_id})) as waited\n")
    return project


def _gate_waiters(world, lock_id: int) -> int:
    return query(world, "select count(*) from pg_locks l join pg_stat_activity a using (pid) "
                        "where l.locktype = 'advisory' and not l.granted and l.objid = %s "
                        "and a.datname = current_database()", (lock_id,))[0][0]


def _fct_sales(world) -> list[str]:
    if query(world, "select to_regclass('marts.fct_sales')")[0][0] is None:
        return []
    return [r[0] for r in query(world, "select sale_id from marts.fct_sales order by 1")]


def _built_batch_keys(world) -> list[list[str]]:
    """Keys of each batch summarized on the loads topic with a successful build."""
    summaries = [json.loads(m.value()) for m in consume_all(world, world.loads_topic, 5)]
    return [[f["key"] for f in s["files"]] for s in summaries
            if s["files"] and s["dbt"] and s["dbt"]["success"]]


def test_file_announced_during_the_catch_up_build_is_loaded_before_it_ends(world, tmp_path):
    lock_id = random.randrange(1, 2**31)
    project = _gated_project(tmp_path, lock_id)
    # Unbuilt data in raw: loaded without dbt, so the next loader starts with a catch-up build.
    put_and_announce(world, "incoming/before.csv", to_csv([sale("OLD-1")]))
    run_loader(world, run_dbt=False)
    with psycopg.connect(**world.settings.pg_connect_kwargs(), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (lock_id,))
        loader = subprocess.Popen(loader_cmd(world), env=dict(world.env,
                                  DBT_PROJECT_DIR=str(project)),
                                  stderr=subprocess.PIPE, text=True)
        try:
            put_and_announce(world, "incoming/during.csv", to_csv([sale("NEW-1")]))
            wait_for(lambda: _gate_waiters(world, lock_id) == 1)  # the catch-up build runs
            wait_for(lambda: query(world, "select count(*) from raw.files where key = "
                                          "'incoming/during.csv' and status = 'loaded'")[0][0])
            # Loaded while the catch-up build is still held at the gate.
            assert _gate_waiters(world, lock_id) == 1
            assert _fct_sales(world) == []
            holder.execute("select pg_advisory_unlock(%s)", (lock_id,))
            # The file's batch is summarized once a build that covers it succeeded.
            wait_for(lambda: _built_batch_keys(world) == [["incoming/during.csv"]], timeout=240)
        finally:
            loader.send_signal(signal.SIGTERM)
            logs = loader.communicate(timeout=60)[1]
    assert loader.returncode == 0, logs[-3000:]
    assert _fct_sales(world) == ["NEW-1", "OLD-1"]


def test_sigterm_during_a_build_abandons_it_and_stops_the_loader(world, tmp_path):
    lock_id = random.randrange(1, 2**31)
    project = _gated_project(tmp_path, lock_id)
    put_and_announce(world, "incoming/before.csv", to_csv([sale("OLD-1")]))
    run_loader(world, run_dbt=False)
    with psycopg.connect(**world.settings.pg_connect_kwargs(), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (lock_id,))
        loader = subprocess.Popen(loader_cmd(world), env=dict(world.env,
                                  DBT_PROJECT_DIR=str(project)),
                                  stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: _gate_waiters(world, lock_id) == 1)
            loader.send_signal(signal.SIGTERM)
            code = loader.wait(60)
        finally:
            loader.kill()
        logs = loader.stderr.read()
    assert code == 0, logs[-3000:]
    assert "event=dbt_build_abandoned reason=shutdown" in logs
    assert "event=loader_stopped" in logs
    # The abandoned build's session is gone: nothing of it keeps running.
    wait_for(lambda: _gate_waiters(world, lock_id) == 0, timeout=30)
