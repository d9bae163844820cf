"""`salespipe replay` on the real S3 endpoint and Kafka broker: --prefix, --since, --dry-run."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.formats_support import to_gz
from tests.integration.loader_support import consume_all, put, query, run_loader, sale, to_csv

pytestmark = pytest.mark.integration

SALESPIPE = str(Path(sys.executable).parent / "salespipe")


def replay(world, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SALESPIPE, "replay", "--topic", world.files_topic, *args],
                          env=world.env, capture_output=True, text=True, timeout=120)


def announced(world) -> list[str]:
    return sorted(json.loads(m.value())["Records"][0]["s3"]["object"]["key"]
                  for m in consume_all(world, world.files_topic, timeout=8))


def test_prefix_replays_only_matching_keys_and_the_loader_loads_them(world):
    for key in ("incoming/sales_2026-03-01.csv", "incoming/sales_2026-03-02.csv.gz",
                "incoming/sales_2026-04-01.csv", "archive/sales_2026-03-05.csv"):
        body = to_csv([sale(key)])
        put(world, key, to_gz(body) if key.endswith(".gz") else body)
    proc = replay(world, "--prefix", "sales_2026-03")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"re-announced 2 object(s) on {world.files_topic}"
    assert announced(world) == ["incoming/sales_2026-03-01.csv", "incoming/sales_2026-03-02.csv.gz"]
    same = replay(world, "--prefix", "incoming/sales_2026-04")  # the full key prefix works too
    assert same.stdout.strip() == f"re-announced 1 object(s) on {world.files_topic}"
    run_loader(world)
    assert query(world, "select key, status from raw.files order by key") == [
        ("incoming/sales_2026-03-01.csv", "loaded"), ("incoming/sales_2026-03-02.csv.gz", "loaded"),
        ("incoming/sales_2026-04-01.csv", "loaded")]


def test_since_selects_objects_modified_at_or_after_the_moment(world):
    put(world, "incoming/old.csv", to_csv([sale("S1")]))
    time.sleep(2)
    cut = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(max(0.0, (cut - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
    put(world, "incoming/new.csv", to_csv([sale("S2")]))
    proc = replay(world, "--since", cut.isoformat())
    assert proc.returncode == 0, proc.stderr
    assert announced(world) == ["incoming/new.csv"]
    # Days taken from the object's own modification time, not the clock: the test holds
    # across midnight.
    from salespipe import s3

    modified = s3.client(world.settings).head_object(
        Bucket=world.settings.BUCKET_NAME, Key="incoming/new.csv")["LastModified"]
    day = modified.astimezone(dt.UTC).date()
    nothing = replay(world, "--since", (day + dt.timedelta(days=1)).isoformat())
    assert nothing.stdout.strip() == f"re-announced 0 object(s) on {world.files_topic}"
    both = replay(world, "--since", day.isoformat(), "--prefix", "ne")
    assert both.stdout.strip() == f"re-announced 1 object(s) on {world.files_topic}"


def test_dry_run_lists_what_would_be_announced_and_announces_nothing(world):
    bodies = {"incoming/a.csv": to_csv([sale("S1")]), "incoming/b.xlsx": b"PK not really",
              "incoming/sub/c.zip": b"PK"}
    for key, body in bodies.items():
        put(world, key, body)
    proc = replay(world, "--all", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    *lines, summary = proc.stdout.strip().splitlines()
    assert summary == f"would re-announce 3 object(s) on {world.files_topic}"
    listed = {ln.split("\t")[0]: int(ln.split("\t")[2]) for ln in lines}
    assert listed == {k: len(v) for k, v in bodies.items()}
    one = replay(world, "--key", "incoming/a.csv", "--dry-run")
    assert one.stdout.splitlines()[-1] == f"would re-announce 1 object(s) on {world.files_topic}"
    assert announced(world) == []


def test_replay_without_a_selection_or_with_conflicting_ones_is_a_usage_error(world):
    for args in ((), ("--key", "incoming/a.csv", "--all"), ("--since", "yesterday")):
        proc = replay(world, *args)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr and "error" in proc.stderr
