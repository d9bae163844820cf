"""The watcher's cursor and sweep, on the real S3 server (moto) and Kafka."""

from __future__ import annotations

import json

import pytest

from tests.integration.loader_support import consume_all, put

pytestmark = pytest.mark.integration


@pytest.fixture
def watcher(world, tmp_path):
    from announcer.announce import Announcer
    from announcer.watcher import WatchState, poll_once
    from salespipe import s3

    settings = world.settings.model_copy(update={"WATCH_SWEEP_SECONDS": 3600.0})
    client = s3.client(settings)
    announcer = Announcer(settings, world.files_topic)
    path = tmp_path / "watch.json"

    def poll(*, sweep: bool | None = None) -> int:
        return poll_once(settings, client, announcer, WatchState(path), sweep=sweep)

    poll.path = path  # type: ignore[attr-defined]
    return poll


def _announced(world) -> list[str]:
    keys = []
    for msg in consume_all(world, world.files_topic, timeout=8.0):
        keys.append(json.loads(msg.value())["Records"][0]["s3"]["object"]["key"])
    return sorted(keys)


def test_new_key_after_the_cursor_is_announced_by_a_plain_poll(world, watcher):
    put(world, "incoming/sales_2026-03-01.csv", b"a")
    assert watcher() == 1  # first poll: a full sweep
    put(world, "incoming/sales_2026-03-02.csv", b"b")
    assert watcher() == 1
    assert watcher() == 0
    state = json.loads(watcher.path.read_text())
    assert state["cursor"] == "incoming/sales_2026-03-02.csv"
    assert _announced(world) == ["incoming/sales_2026-03-01.csv", "incoming/sales_2026-03-02.csv"]


def test_key_sorting_before_the_cursor_is_found_by_the_sweep_only(world, watcher):
    put(world, "incoming/sales_2026-03-05.csv", b"a")
    assert watcher() == 1
    put(world, "incoming/sales_2026-02-01.csv", b"backfill")  # sorts before the cursor
    assert watcher() == 0  # invisible to the cursor
    assert watcher(sweep=True) == 1
    assert watcher(sweep=True) == 0
    assert _announced(world) == ["incoming/sales_2026-02-01.csv", "incoming/sales_2026-03-05.csv"]


def test_new_version_of_an_old_key_is_found_by_the_sweep(world, watcher):
    put(world, "incoming/sales_2026-03-01.csv", b"v1")
    put(world, "incoming/sales_2026-03-09.csv", b"x")
    assert watcher() == 2
    put(world, "incoming/sales_2026-03-01.csv", b"v2")
    assert watcher() == 0
    assert watcher(sweep=True) == 1
    assert len(_announced(world)) == 3


def test_no_key_is_announced_twice_across_polls_sweeps_and_restarts(world, watcher):
    for day in range(1, 11):
        put(world, f"incoming/sales_2026-04-{day:02d}.csv", b"x")
        watcher(sweep=day % 3 == 0)  # each poll re-reads the state file: a restart
    for _ in range(3):
        watcher()
        watcher(sweep=True)
    assert _announced(world) == [f"incoming/sales_2026-04-{d:02d}.csv" for d in range(1, 11)]


def test_state_file_stays_bounded(world, watcher, monkeypatch):
    from announcer import watcher as module

    monkeypatch.setattr(module, "MAX_RECENT", 5)
    for i in range(30):
        put(world, f"incoming/sales_{i:03d}.csv", b"x")
    assert watcher() == 30
    state = json.loads(watcher.path.read_text())
    assert len(state["recent"]) <= 5
    assert watcher(sweep=True) == 0  # what was forgotten is not announced again
    put(world, "incoming/sales_999.csv", b"y")
    assert watcher() == 1
    assert len(json.loads(watcher.path.read_text())["recent"]) <= 5
    assert len(_announced(world)) == 31
