"""The loader where users live: a warehouse that already holds millions of sales, and a burst
of files shared by several loader processes.

- `bench_loader_vs_ceiling`: the loader (S3 download, parse, validate, COPY, commit) against
  the fair ceiling for its job: plain `COPY` of the very same rows into a fresh table shaped
  like `raw.sales` (its primary key and indexes), with the keys supplied in the file the way
  the loader supplies them (a new, greatest file_id, ascending row numbers), commit inside
  the clock. Runs alternate, with a CHECKPOINT before each; medians are reported. A ceiling
  slower than the loader means the measurement is wrong, and the run says so (`valid`).
- `bench_loader_members`: one `salespipe load` process against two in one consumer group on
  the same burst (fresh topics each run), timed from the first file received to the last
  committed, as `raw.files` records them (process start-up is not counted).
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.common import checkpoint, wait_until
from salespipe.contract import RAW_SALES_COLUMNS


def _keyed_copy_file(path: Path, file_id: int) -> Path:
    """The file with `file_id,row_number` in front of every record, written outside the clock
    (the loader numbers rows as it parses; the ceiling gets them for free)."""
    import csv

    keyed = path.with_name(path.stem + ".keyed.csv")
    with open(path, newline="", encoding="utf-8") as src, \
            open(keyed, "w", newline="", encoding="utf-8") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(["file_id", "row_number", *next(reader)])
        for n, record in enumerate(reader, 1):
            writer.writerow([file_id, n, *record])
    return keyed


def _ceiling_copy(b: Any, keyed: Path) -> float:
    """`COPY` into a fresh table like raw.sales, committed inside the clock, then dropped."""
    import psycopg

    columns = ", ".join(("file_id", "row_number", *RAW_SALES_COLUMNS))
    table = f"public.ceiling_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        conn.execute(f"create table {table} (like raw.sales including all)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
            f"copy {table} ({columns}) from stdin (format csv, header true)"  # noqa: S608 - constant columns
        ) as copy, open(keyed, "rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute(f"drop table {table}")
        conn.commit()
    return seconds


def bench_loader_vs_ceiling(b: Any, rows: int, samples: int = 3) -> dict[str, Any]:
    sales = _count_sales(b)
    path = b.make_file(dt.date(2027, 1, 1), rows, 77)
    import psycopg

    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        next_file_id = conn.execute("select coalesce(max(file_id), 0) + 1 from raw.files"
                                    ).fetchone()[0]
    keyed = _keyed_copy_file(path, next_file_id)
    ours, ceiling = [], []
    for i in range(samples):
        key = f"incoming/at_scale_{i}.csv"
        b.upload(key, path)
        checkpoint(b.settings)
        ours.append(b.load_once(key)["seconds"])
        checkpoint(b.settings)
        ceiling.append(_ceiling_copy(b, keyed))
    keyed.unlink()
    ours_s, ceiling_s = statistics.median(ours), statistics.median(ceiling)
    return {"warehouse_sales": sales, "rows": rows, "samples": samples,
            "loader_s": ours, "ceiling_s": ceiling,
            "loader_rows_per_s": rows / ours_s, "ceiling_rows_per_s": rows / ceiling_s,
            "share_of_ceiling": ceiling_s / ours_s, "valid": ceiling_s <= ours_s,
            "method": "fresh table like raw.sales, keys in the file, commit in the clock"}


def _count_sales(b: Any) -> int:
    import psycopg

    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        return int(conn.execute("select count(*) from raw.sales").fetchone()[0])


def _burst_seconds(b: Any, paths: list[Path], members: int,
                   bin_dir: Path) -> tuple[float, float]:
    """Run `members` loaders in one group (fresh topics, the default partition count), wait
    until the group is stable, then announce every file at once; (first received -> last
    loaded, share of the machine's CPU time busy meanwhile).

    Loaders are long-running services: a burst lands on a group that already formed. Starting
    the processes after the announcements would measure the group forming instead (the first
    member takes every partition, then hands half back), which a running pipeline pays once.
    """
    import json
    import signal

    import psycopg
    from confluent_kafka import Producer

    from announcer.announce import make_event
    from salespipe import kafka

    run = uuid.uuid4().hex[:6]
    topics = [f"bench.members.{run}.{t}" for t in ("files", "dlq", "loads")]
    partitions = b.settings.KAFKA_TOPIC_PARTITIONS
    kafka.ensure_topics(b.settings, wanted={topics[0]: partitions, topics[1]: 1, topics[2]: 1})
    keys = [f"incoming/members_{run}_{i:02d}.csv" for i in range(len(paths))]
    for key, path in zip(keys, paths, strict=True):
        b.upload(key, path)
    group = f"g-{topics[0]}"
    cmd = [str(bin_dir / "salespipe"), "load", "--no-dbt", "--group", group,
           "--files-topic", topics[0], "--dlq-topic", topics[1], "--loads-topic", topics[2]]
    procs = [subprocess.Popen(cmd, env=b.env, stderr=subprocess.DEVNULL) for _ in range(members)]
    try:
        wait_until(lambda: _group_formed(b.settings, group, members), 120, "group formed")
        checkpoint(b.settings)
        producer = Producer(kafka.producer_config(b.settings))
        busy_before = _cpu_ticks()
        # Round-robin over the partitions: with a file count that divides evenly, every member
        # has the same work. Hashed keys spread evenly only on average over many files; a
        # burst of ten can put most of them on one member, whatever the loader does.
        for i, (key, path) in enumerate(zip(keys, paths, strict=True)):
            head = b.s3.head_object(Bucket=b.settings.BUCKET_NAME, Key=key)
            event = make_event(b.settings.BUCKET_NAME, key, path.stat().st_size,
                               head["ETag"].strip('"'))
            producer.produce(topics[0], key=key.encode(), value=json.dumps(event).encode(),
                             partition=i % partitions)
        producer.flush(30)
        with psycopg.connect(**b.settings.pg_connect_kwargs(), autocommit=True) as conn:
            def loaded() -> int:
                return int(conn.execute("select count(*) from raw.files where key = any(%s) "
                                        "and status = 'loaded'", (keys,)).fetchone()[0])

            wait_until(lambda: loaded() == len(keys), 1800, f"{members} loader(s) loading")
            busy, total = (after - before
                           for after, before in zip(_cpu_ticks(), busy_before, strict=True))
            first, last = conn.execute(
                "select min(received_at), max(loaded_at) from raw.files where key = any(%s)",
                (keys,)).fetchone()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(120)
    return (last - first).total_seconds(), busy / total if total else 0.0


def _group_formed(settings: Any, group: str, members: int) -> bool:
    """Every member joined and holds partitions, as the broker sees the group."""
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    from salespipe.kafka import client_config

    admin = AdminClient(client_config(settings))
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=10)
    except Exception:  # noqa: BLE001 - the group does not exist until its first member joins
        return False
    return (description.state == ConsumerGroupState.STABLE
            and len(description.members) == members
            and all(m.assignment.topic_partitions for m in description.members))


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def bench_loader_members(b: Any, bursts: list[tuple[int, int]], bin_dir: Path,
                         samples: int = 3) -> dict[str, Any]:
    """One loader against two, for each (files, rows per file) of `bursts`: the first is the
    headline, the others go under "more". Also records how busy the machine's CPUs were: a
    second loader can only add what one leaves idle, and here the loaders, PostgreSQL, the S3
    server and Kafka share two cores."""
    first, *more = [_members_on(b, files, rows, bin_dir, samples) for files, rows in bursts]
    return {**first, "more": more}


def _members_on(b: Any, files: int, rows: int, bin_dir: Path, samples: int) -> dict[str, Any]:
    paths = [b.make_file(dt.date(2027, 2, 1) + dt.timedelta(days=i), rows, 500 + i)
             for i in range(files)]
    one, two, one_busy, two_busy = [], [], [], []
    for _ in range(samples):
        for members, seconds, busy in ((1, one, one_busy), (2, two, two_busy)):
            took, cpu = _burst_seconds(b, paths, members, bin_dir)
            seconds.append(took)
            busy.append(cpu)
    return {"files": files, "rows_per_file": rows, "samples": samples, "one_loader_s": one,
            "two_loaders_s": two, "speedup": statistics.median(one) / statistics.median(two),
            "cpu_busy_one_loader": statistics.median(one_busy),
            "cpu_busy_two_loaders": statistics.median(two_busy)}

