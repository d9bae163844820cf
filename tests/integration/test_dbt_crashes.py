"""`dbt build` killed at arbitrary points (SIGKILL of the loader's dbt worker) must leave
nothing the next build cannot finish exactly: every model commits on its own and a killed
build marks no file built, so its files stay in the next build's window. After each batch one
build is killed and one completes; the marts must then equal the Python model of the same files and a full
refresh."""

from __future__ import annotations

import os
import re
import signal
import threading

import pytest

from loader.dbt import DbtWorker, build_command
from salespipe import db
from tests.integration.dbt_support import (
    MART_KEYS,
    expected_marts,
    insert_raw,
    locked_invoke,
    read_mart,
    run_dbt,
)
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

# Each build is killed once the poller has seen this many distinct dbt models with a statement
# running in PostgreSQL (dbt's query comment names the node): early, in the middle, later on.
# A kill while dbt parses, or after the build, would prove nothing about a crash mid-build.
KILL_AT_MODEL = (1, 3, 2, 4, 1, 3)
MODEL_STATEMENTS = """
select query from pg_stat_activity
where datname = current_database() and state = 'active' and pid <> pg_backend_pid()
    and query like '%%"node_id": "model.%%'
"""


def _kill(worker: DbtWorker) -> None:
    proc = worker.proc
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)


class ModelKiller(threading.Thread):
    """SIGKILLs the worker while PostgreSQL runs a statement of its `nth` distinct model."""

    def __init__(self, settings, worker: DbtWorker, nth: int) -> None:
        super().__init__(daemon=True)
        self.settings, self.worker, self.nth = settings, worker, nth
        self.done = threading.Event()
        self.killed_during: str | None = None

    def run(self) -> None:
        seen: set[str] = set()
        with db.connect(self.settings, autocommit=True) as conn:
            while not self.done.is_set():
                for (query,) in conn.execute(MODEL_STATEMENTS).fetchall():
                    node = re.search(r'"node_id": "(model\.[^"]+)"', query)
                    if node:
                        seen.add(node.group(1))
                    if node and len(seen) >= self.nth:
                        _kill(self.worker)
                        self.killed_during = node.group(1)
                        return


def test_killed_builds_converge_to_the_exact_marts(world, tmp_path):
    transform = world.settings.for_component("transform")
    worker = DbtWorker(transform)
    files = []
    killed: list[tuple[bool, str | None]] = []
    try:
        with db.connect(world.settings, autocommit=True) as conn:
            for spec, nth in zip((STORE_A_V1, STORE_B, BROKEN, STORE_A_V2, STORE_C, LATE),
                                 KILL_AT_MODEL, strict=True):
                files.append(insert_raw(conn, spec))
                killer = ModelKiller(world.settings, worker, nth)
                killer.start()
                success, _ = locked_invoke(worker, transform, build_command(transform)[1:], 120)
                killer.done.set()
                killer.join()
                killed.append((success, killer.killed_during))
                # A killed build marks nothing: its file stays in the next build's window.
                assert conn.execute("select count(*) from raw.files where built_at is null"
                                    ).fetchone() == (1,)
                # The killed build's lock ended with it: the next one starts at once.
                success, output = locked_invoke(worker, transform,
                                                build_command(transform)[1:], 300)
                assert success, output[-3000:]
            marts = {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()}
            fct = read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING)
            # The builds that finished marked every file built: nothing is left pending.
            assert conn.execute("select count(*) from raw.files where built_at is null"
                                ).fetchone() == (0,)
            # every build was killed while one of its models ran a statement
            assert all(not ok and node for ok, node in killed), killed
            want = expected_marts(files)
            for name in MART_KEYS:
                assert marts[name] == want[name], name
            run_dbt(world.settings, "build", "--full-refresh", target=tmp_path)
            assert {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()} == marts
            assert read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING) == fct
    finally:
        worker.close()
