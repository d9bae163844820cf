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


def group_assignment(world) -> list[int]:
    """Partitions of sales.files held by each member of the loader group, as the broker sees it."""
    from confluent_kafka.admin import AdminClient

    from salespipe.kafka import client_config

    group = f"g-{world.files_topic}"
    admin = AdminClient(client_config(world.settings))  # alive until the future resolves
    future = admin.describe_consumer_groups([group])[group]
    try:
        description = future.result(timeout=10)
    except Exception:  # noqa: BLE001 - the group may not exist yet: no members
        return []
    return sorted(len(m.assignment.topic_partitions) for m in description.members)


def test_two_loaders_in_one_group_load_each_file_once(world):
    procs = [subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        # Both members hold partitions (3 = 1 + 2) before anything is announced, so neither
        # can take the whole topic because the other had not joined yet.
        wait_for(lambda: group_assignment(world) == [1, 2])
        for i in range(20):
            rows = [sale(f"F{i}-{j}") for j in range(5)]
            put_and_announce(world, f"incoming/f{i:02d}.csv", to_csv(rows))
        # Stop on what is observable (every file in raw.files), not on an idle timer.
        wait_for(lambda: query(world, "select count(*) from raw.files")[0][0] >= 20)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
    logs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "".join(logs)[-2000:]
    counts = query(world, "select key, count(*) from raw.files where status = 'loaded' "
                          "group by key")
    assert len(counts) == 20 and all(n == 1 for _, n in counts)
    assert query(world, "select count(*), count(distinct sale_id) from raw.sales")[0] == (100, 100)
    # each member did work (keys spread over the 3 partitions), and together each file once
    per_member = [log.count("event=file_loaded") for log in logs]
    assert all(n >= 1 for n in per_member) and sum(per_member) == 20, per_member
    # each member was ready (connected, validation warmed up) before it joined the group
    assert all(0 <= log.find("event=warmed_up") < log.find("event=partitions_assigned")
               for log in logs), logs


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
    # The dead member holds its partitions until its session times out (10 s): wait for the
    # files to be loaded, not for an idle timer that could fire before the takeover.
    survivor = subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                                stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: query(world, "select count(*) from raw.files")[0][0] >= 2, 300)
    finally:
        survivor.send_signal(signal.SIGTERM)
    _, err = survivor.communicate(timeout=60)
    assert survivor.returncode == 0, err[-2000:]
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


def test_batch_held_across_a_rebalance_hands_back_the_revoked_partition(world, caplog):
    """A loader holding a batch when a second member joins loads nothing of the partitions it
    gave away (their new owner does), and every file is loaded exactly once."""
    import logging
    import re
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from loader.consumer import Loader

    caplog.set_level(logging.INFO, logger="loader")
    key_partition = {f"incoming/p{p}-{i}.csv": p for p in range(3) for i in range(2)}
    for key, partition in key_partition.items():
        put_and_announce(world, key, to_csv([sale(key[-8:-4])]), partition=partition)

    holder = Loader(world.settings, topics=world.topics, group_id=f"g-{world.files_topic}",
                    run_dbt=False)
    joiner: list[subprocess.Popen] = []
    revoked: set[int] = set()

    def hold_until_revoked() -> deque:
        """The first batch holds messages of every partition; then a second member joins and
        the batch is kept until the rebalance served inside consume() took a partition."""
        del holder._next_batch  # later batches are the loader's own
        msgs: list = []
        deadline = time.monotonic() + 120
        while {m.partition() for m in msgs if not m.error()} != {0, 1, 2}:
            assert time.monotonic() < deadline, "the first batch never covered every partition"
            msgs += holder.consumer.consume(num_messages=20, timeout=0.5)
        before = {tp.partition for tp in holder.consumer.assignment()}
        joiner.append(subprocess.Popen(loader_cmd(world, "--no-dbt"), env=world.env,
                                       stderr=subprocess.PIPE, text=True))
        while not (revoked_now := before - {tp.partition for tp in
                                            holder.consumer.assignment()}):
            assert time.monotonic() < deadline, "the second member never took a partition"
            msgs += holder.consumer.consume(num_messages=20, timeout=0.5)
        revoked.update(revoked_now)
        # as _next_batch returns them, with an ownership epoch: the partitions still held
        # were held all along, so their messages stay loadable; the revoked ones are not
        return deque((m, holder.ownership.epoch) for m in msgs)

    holder._next_batch = hold_until_revoked  # type: ignore[method-assign]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(holder.run)
        try:
            # every file loaded, and the holder through its held batch (the messages it
            # hands back may come last in it)
            wait_for(lambda: running.done() or (
                query(world, "select count(*) from raw.files")[0][0] >= len(key_partition)
                and any("event=batch_done" in r.getMessage() for r in caplog.records)), 180)
        finally:
            holder.stop.set()
            for proc in joiner:
                proc.send_signal(signal.SIGTERM)
        running.result(timeout=60)
    assert len(joiner) == 1
    joiner_log = joiner[0].communicate(timeout=60)[1]
    assert joiner[0].returncode == 0, joiner_log[-2000:]

    def loaded_keys(lines: list[str]) -> set[str]:
        return {re.search(r"\bkey=(\S+)", line).group(1)  # type: ignore[union-attr]
                for line in lines if "event=file_loaded" in line}

    given_away = {key for key, p in key_partition.items() if p in revoked}
    holder_loaded = loaded_keys([r.getMessage() for r in caplog.records])
    assert given_away and not holder_loaded & given_away, (revoked, holder_loaded)
    assert holder_loaded == set(key_partition) - given_away
    assert loaded_keys(joiner_log.splitlines()) == given_away, joiner_log[-2000:]
    handed_back = [r.getMessage() for r in caplog.records if "event=handed_back" in r.getMessage()]
    assert sorted(int(re.search(r"partition=(\d+)", m).group(1))  # type: ignore[union-attr]
                  for m in handed_back) == sorted(key_partition[k] for k in given_away)
    assert query(world, "select key, count(*) from raw.files where status = 'loaded' "
                        "group by key order by key") == [(k, 1) for k in sorted(key_partition)]
