"""`dbt build` killed at arbitrary points (SIGKILL of the loader's dbt worker) must leave
nothing the next build cannot finish exactly: every model commits on its own and the
incremental ones resume from their watermarks. After each batch one build is killed and
one completes; the marts must then equal the Python model of the same files and a full
refresh."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from loader.dbt import DbtWorker, build_command, run_build
from salespipe import db
from tests.integration.dbt_support import MART_KEYS, expected_marts, insert_raw, read_mart, run_dbt
from tests.integration.test_dbt_marts import (
    BROKEN,
    FCT_BOOKKEEPING,
    FCT_KEY,
    LATE,
    STORE_A_V1,
    STORE_A_V2,
    STORE_B,
    STORE_C,
)

pytestmark = pytest.mark.integration

# Seconds after a build is sent at which the worker is killed: while dbt parses, in the
# middle of the models, near the end. The first build starts the worker (~1.5 s more); the
# others find it warm. A kill that lands after the build is a valid case too.
KILL_AFTER = (2.2, 0.6, 1.6, 1.0, 1.3, 0.8)


def _kill(worker: DbtWorker) -> None:
    proc = worker.proc
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)


def test_killed_builds_converge_to_the_exact_marts(world, tmp_path):
    transform = world.settings.for_component("transform")
    worker = DbtWorker(transform)
    files = []
    killed = 0
    try:
        with db.connect(world.settings, autocommit=True) as conn:
            for spec, delay in zip((STORE_A_V1, STORE_B, BROKEN, STORE_A_V2, STORE_C, LATE),
                                   KILL_AFTER, strict=True):
                files.append(insert_raw(conn, spec))
                timer = threading.Timer(delay, _kill, (worker,))
                timer.start()
                success, _ = worker.invoke(build_command(transform)[1:], 120)
                timer.join()
                killed += not success
                outcome = run_build(transform, worker)
                assert outcome.success, outcome.summary
            marts = {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()}
            fct = read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING)
            # Every consumer applied everything: the change log is pruned to its newest batch
            # (LATE's one sale), which the reconciliation tests still check.
            assert conn.execute(
                "select count(distinct batch_id), array_agg(distinct sale_id) filter"
                " (where sale_id is not null) from staging.int_sales__changes").fetchone() == (
                1, ["S009"])
            assert killed >= 3  # kills landed mid-build, not only before or after
            want = expected_marts(files)
            for name in MART_KEYS:
                assert marts[name] == want[name], name
            run_dbt(world.settings, "build", "--full-refresh", target=tmp_path)
            assert {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()} == marts
            assert read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING) == fct
    finally:
        worker.close()
