"""The watcher's inbox poll, on the real S3 server (moto) and Kafka: every key is announced at
the next poll whatever its spelling, once, and the state holds only what is still pending."""

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

    client = s3.client(world.settings)
    announcer = Announcer(world.settings, world.files_topic)
    path = tmp_path / "watch.json"

    def poll() -> int:
        # A fresh WatchState each poll: every poll is also a restart from the state file.
        return poll_once(world.settings, client, announcer, WatchState(path))

    poll.path = path  # type: ignore[attr-defined]
    return poll


def _announced(world) -> list[tuple[str, str]]:
    out = []
    for msg in consume_all(world, world.files_topic, timeout=8.0):
        obj = json.loads(msg.value())["Records"][0]["s3"]["object"]
        out.append((obj["key"], obj["eTag"]))
    return sorted(out)


def _remove(world, key: str) -> None:
    from salespipe import s3

    s3.client(world.settings).delete_object(Bucket=world.settings.BUCKET_NAME, Key=key)


def test_keys_in_any_order_are_each_announced_at_the_next_poll(world, watcher):
    put(world, "incoming/store-12/sales_2026-03-05.csv", b"a")
    assert watcher() == 1
    # Each of these sorts before every key seen so far: a back-filled day, another store.
    for key in ["incoming/store-12/sales_2026-02-01.csv", "incoming/store-01/sales_2026-03-05.csv",
                "incoming/a.csv"]:
        put(world, key, key.encode())
        assert watcher() == 1, key
    assert watcher() == 0
    assert [k for k, _ in _announced(world)] == sorted([
        "incoming/a.csv", "incoming/store-01/sales_2026-03-05.csv",
        "incoming/store-12/sales_2026-02-01.csv", "incoming/store-12/sales_2026-03-05.csv"])


def test_new_version_of_a_pending_key_is_announced(world, watcher):
    v1 = put(world, "incoming/sales_2026-03-01.csv", b"v1")
    assert watcher() == 1
    v2 = put(world, "incoming/sales_2026-03-01.csv", b"v2")
    assert watcher() == 1
    assert _announced(world) == sorted([("incoming/sales_2026-03-01.csv", v1),
                                        ("incoming/sales_2026-03-01.csv", v2)])


def test_state_holds_only_the_inbox_and_a_key_that_returns_is_announced_again(world, watcher):
    for day in range(1, 6):
        put(world, f"incoming/sales_2026-04-{day:02d}.csv", b"x")
    assert watcher() == 5
    assert watcher() == 0
    for day in range(1, 5):  # what a load with S3_AFTER_LOAD=move does: the object leaves
        _remove(world, f"incoming/sales_2026-04-{day:02d}.csv")
    assert watcher() == 0
    state = json.loads(watcher.path.read_text())
    assert list(state["announced"]) == ["incoming/sales_2026-04-05.csv"]
    # Uploaded again after it left, the same bytes are a new arrival (the loader skips a
    # version it already loaded, so announcing is harmless; silence would not be).
    put(world, "incoming/sales_2026-04-01.csv", b"x")
    assert watcher() == 1
    assert len(_announced(world)) == 6


def test_state_from_the_cursor_watcher_reannounces_the_inbox_once(world, watcher):
    put(world, "incoming/sales_2026-05-01.csv", b"x")
    watcher.path.write_text(json.dumps({"version": 2, "cursor": "incoming/sales_2026-05-01.csv",
                                        "since": 0, "last_sweep": 0, "recent": {}}))
    assert watcher() == 1
    assert watcher() == 0


def test_a_large_inbox_is_reported_in_the_log(world, watcher, monkeypatch, caplog):
    from announcer import watcher as module

    monkeypatch.setattr(module, "LARGE_INBOX", 3)
    for i in range(4):
        put(world, f"incoming/sales_{i:03d}.csv", b"x")
    with caplog.at_level("WARNING", logger="salespipe.watch"):
        assert watcher() == 4
    assert "event=large_inbox objects=4" in caplog.text
