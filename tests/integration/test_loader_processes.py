"""Loader processes on the real services: group sharing, SIGKILL mid-file, restart."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.loader_support import put_and_announce, query, sale, to_csv

pytestmark = pytest.mark.integration

SALESPIPE = str(Path(sys.executable).parent / "salespipe")


def loader_cmd(world, *extra: str) -> list[str]:
    return [SALESPIPE, "load", "--group", f"g-{world.files_topic}", "--files-topic",
            world.files_topic, "--dlq-topic", world.dlq_topic, "--loads-topic",
            world.loads_topic, *extra]


def wait_for(check, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_two_loaders_in_one_group_load_each_file_once(world):
    procs = [subprocess.Popen(loader_cmd(world, "--no-dbt", "--exit-when-idle", "8"),
                              env=world.env, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for i in range(20):
        rows = [sale(f"F{i}-{j}") for j in range(5)]
        put_and_announce(world, f"incoming/f{i:02d}.csv", to_csv(rows))
    for p in procs:
        p.wait(180)
    logs = "".join(p.stderr.read() for p in procs)
    assert all(p.returncode == 0 for p in procs), logs[-2000:]
    counts = query(world, "select key, count(*) from raw.files where status = 'loaded' "
                          "group by key")
    assert len(counts) == 20 and all(n == 1 for _, n in counts)
    assert query(world, "select count(*), count(distinct sale_id) from raw.sales")[0] == (100, 100)
    # both members did work: the topic has 3 partitions and 20 keys
    assert logs.count("event=file_loaded") == 20


def big_csv(n: int, prefix: str) -> bytes:
    return to_csv([sale(f"{prefix}{i}", qty=1 + i % 5) for i in range(n)])


def test_sigkill_mid_file_then_restart_loses_and_doubles_nothing(world):
    n = 300_000
    put_and_announce(world, "incoming/big.csv", big_csv(n, "B"))
    put_and_announce(world, "incoming/after.csv", big_csv(10, "A"))
    victim = subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                              stderr=subprocess.PIPE, text=True)
    # Kill while the big file's transaction is open (rows are being COPYed).
    wait_for(lambda: query(world, "select count(*) from pg_stat_activity where query ilike "
                                  "'copy raw.sales%%' and datname = current_database()")[0][0] > 0)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    # Nothing of the big file is visible: its transaction died with the process.
    assert query(world, "select count(*) from raw.sales where sale_id like 'B%%'")[0][0] == 0
    assert query(world, "select count(*) from raw.files where key = 'incoming/big.csv'")[0][0] == 0
    # The dead member holds its partitions until its session times out (10 s).
    survivor = subprocess.run(loader_cmd(world, "--no-dbt", "--exit-when-idle", "20"),
                              env=world.env, capture_output=True, text=True, timeout=300)
    assert survivor.returncode == 0, survivor.stderr[-2000:]
    assert query(world, "select key, rows_valid from raw.files order by key") == [
        ("incoming/after.csv", 10), ("incoming/big.csv", n)]
    assert query(world, "select count(*), count(distinct sale_id) from raw.sales")[0] == (n + 10,
                                                                                         n + 10)


def test_sigterm_stops_the_loader_cleanly(world):
    proc = subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                            stderr=subprocess.PIPE, text=True)
    put_and_announce(world, "incoming/t.csv", to_csv([sale("T1")]))
    wait_for(lambda: query(world, "select count(*) from raw.files")[0][0] == 1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert "event=loader_stopped" in proc.stderr.read()
