"""The loader's warm dbt worker, with the real dbt against the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from loader.dbt import DbtWorker, build_command, run_build
from salespipe import db
from tests.integration.dbt_support import RawFile, insert_raw, locked_invoke, sale

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child stays a zombie until reaped; /proc says which.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split()[2] != "Z"


def _add_day(settings, day: str, sale_id: str) -> None:
    with db.connect(settings, autocommit=True) as conn:
        insert_raw(conn, RawFile(key=f"incoming/{day}.csv", etag=sale_id,
                                 modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale(sale_id, day=day)]))


def _days(settings) -> list[dt.date]:
    with db.connect(settings, autocommit=True) as conn:
        rows = conn.execute("select sale_date from marts.kpi_daily_sales order by 1").fetchall()
    return [r[0] for r in rows]


def _running(settings, text: str) -> bool:
    """A statement containing `text` is active in the test's database."""
    with db.connect(settings, autocommit=True) as conn:
        return conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and state = 'active' and pid <> pg_backend_pid() and strpos(query, %s) > 0",
            (text,)).fetchone()[0] > 0


def _kill_at_first_model(settings, pid: int) -> None:
    """SIGKILL `pid` as soon as a dbt model statement (dbt's query comment) is running."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _alive(pid):
        if _running(settings, '"node_id": "model.'):
            os.kill(pid, signal.SIGKILL)
            return


@pytest.fixture
def transform(world):
    return world.settings.for_component("transform")


def test_one_worker_serves_consecutive_builds_on_fresh_data(world, transform):
    worker = DbtWorker(transform)
    try:
        _add_day(world.settings, "2026-03-01", "W-1")
        first = run_build(transform, worker)
        pid = worker.proc.pid
        _add_day(world.settings, "2026-03-02", "W-2")
        second = run_build(transform, worker)
        assert first.success and second.success, (first.summary, second.summary)
        assert "Done. PASS=" in second.summary
        assert worker.proc is not None and worker.proc.pid == pid  # no new process
        assert worker.builds == 2
        assert _days(world.settings) == [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
    finally:
        worker.close()
    assert not _alive(pid)


def test_worker_is_replaced_after_max_builds(world, transform):
    worker = DbtWorker(transform, max_builds=1)
    try:
        assert run_build(transform, worker).success
        assert worker.proc is None  # recycled right after its one build
        assert run_build(transform, worker).success
        assert worker.proc is None
    finally:
        worker.close()


def test_timeout_kills_the_worker_and_the_next_build_starts_a_new_one(world, transform):
    worker = DbtWorker(transform)
    try:
        success, output = locked_invoke(worker, transform, build_command(transform)[1:], 0.2)
        assert not success and "timed out after" in output
        assert worker.proc is None
        outcome = run_build(transform, worker)
        assert outcome.success, outcome.summary
    finally:
        worker.close()


def test_worker_killed_mid_build_is_reported_and_replaced(world, transform):
    worker = DbtWorker(transform)
    try:
        assert run_build(transform, worker).success  # warm
        pid = worker.proc.pid
        # Kill once a model's statement runs in PostgreSQL, not after a guessed delay.
        threading.Thread(target=_kill_at_first_model, args=(world.settings, pid),
                         daemon=True).start()
        success, output = locked_invoke(worker, transform,
                                        build_command(transform)[1:] + ["--threads", "1"], 120)
        assert not success and "worker exited" in output  # seen dying, not timed out
        outcome = run_build(transform, worker)
        assert outcome.success and worker.proc.pid != pid
    finally:
        worker.close()


def test_worker_found_dead_when_a_build_is_sent_is_replaced_and_the_build_runs(world,
                                                                               transform):
    worker = DbtWorker(transform)
    try:
        assert run_build(transform, worker).success
        dead = worker.proc
        os.kill(dead.pid, signal.SIGKILL)
        os.waitid(os.P_PID, dead.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
        dead.poll = lambda: None  # as if it died between the liveness check and the write
        outcome = run_build(transform, worker)
        assert outcome.success, outcome.summary
        assert worker.proc is not None and worker.proc.pid != dead.pid
    finally:
        worker.close()


def test_worker_does_not_outlive_a_killed_loader(world, transform):
    """SIGKILL the loader while its worker is busy (a 60 s query): the worker goes too,
    instead of finishing work nobody holds the build lock for."""
    script = (
        "import threading, time\n"
        "from loader.dbt import DbtWorker, dbt_command\n"
        "from salespipe.settings import load_settings\n"
        "s = load_settings().for_component('transform')\n"
        "w = DbtWorker(s)\n"
        "args = dbt_command(s, 'show', '--inline', 'select pg_sleep(60) as x')[1:]\n"
        "threading.Thread(target=w.invoke, args=(args, 120), daemon=True).start()\n"
        "while w.proc is None:\n"
        "    time.sleep(0.05)\n"
        "print(w.proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], env=world.env,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        worker_pid = int(parent.stdout.readline())
        # dbt has parsed and is waiting on the query: PostgreSQL shows it running
        deadline = time.monotonic() + 120
        while not _running(world.settings, "pg_sleep(60)") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _running(world.settings, "pg_sleep(60)")
        assert _alive(worker_pid)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 15
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker_pid)
    finally:
        parent.kill()
