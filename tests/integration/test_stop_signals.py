"""Ctrl-C / SIGTERM on real processes: the watcher stops even while it is waiting on Kafka,
and `salespipe run` passes the signal on so that no component outlives it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest

from cli.local.process import free_port, pid_alive
from tests.integration.loader_support import put, query, sale, to_csv
from tests.integration.test_loader_processes import SALESPIPE, wait_for

pytestmark = pytest.mark.integration


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (children, grandchildren, ...)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_watcher_stops_on_signal_while_kafka_is_unreachable(world, tmp_path, signum):
    # The broker address refuses connections: the watcher waits for acknowledgements that
    # never come (60 s per attempt), then backs off; the signal must cut both short.
    env = dict(world.env, BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    put(world, "incoming/waiting.csv", to_csv([sale("W1")]))
    log = tmp_path / "watch.log"
    proc = subprocess.Popen([SALESPIPE, "watch", "--topic", world.files_topic], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_for(lambda: "event=watch_started" in log.read_text(), timeout=60)
    proc.send_signal(signum)
    try:
        code = proc.wait(20)
    finally:
        proc.kill()
    output = log.read_text()
    assert code == 0, output
    assert "event=watch_stopped" in output
    assert "event=announced" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("to_group", [False, True], ids=["kill", "ctrl_c"])
def test_sigint_to_salespipe_run_stops_every_component(world, tmp_path, to_group):
    """`kill -INT` reaches `salespipe run` alone; Ctrl-C in a terminal reaches its whole
    process group (every component and a generator that may be running)."""
    log = tmp_path / "run.log"
    proc = subprocess.Popen([SALESPIPE, "run", "--every", "2", "--rows", "50", "--port",
                             str(free_port())], env=world.env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Running for real: the watcher announced and the loader loaded a generated file.
        wait_for(lambda: query(world, "select count(*) from raw.files "
                                      "where status = 'loaded'")[0][0] > 0, timeout=240)
        components = descendants(proc.pid)
        assert len(components) >= 3, log.read_text()[-3000:]
        if to_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever a failure left behind
            os.killpg(proc.pid, signal.SIGKILL)
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert "stopped (services keep running" in output
    assert "event=component_killed" not in output, output[-3000:]
    assert [pid for pid in components if pid_alive(pid)] == []
    assert "event=watch_stopped" in output and "event=loader_stopped" in output
