"""The loader where users live: a warehouse that already holds millions of sales, and a burst
of files shared by several loader processes.

- `bench_loader_vs_ceiling`: the loader (S3 download, parse, validate, COPY) against plain
  `COPY` of the very same CSV into `raw.sales` itself, so both pay the same table size, the
  same indexes and the same server. The plain COPY runs in a transaction that is rolled back
  (temporary column defaults stand in for file_id and row_number), so it leaves the warehouse
  as it was. Runs alternate, with a CHECKPOINT before each; medians are reported.
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

from benchmarks.common import checkpoint
from salespipe.contract import RAW_SALES_COLUMNS


def _plain_copy(b: Any, path: Path) -> float:
    """COPY the file into raw.sales as `psql \\copy` would, then roll back."""
    import psycopg

    columns = ", ".join(RAW_SALES_COLUMNS)
    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        conn.execute("create temporary sequence ceiling_rows")
        conn.execute("alter table raw.sales alter column file_id set default -1, "
                     "alter column row_number set default nextval('ceiling_rows')")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
            f"copy raw.sales ({columns}) from stdin (format csv, header true)"  # noqa: S608 - constant columns
        ) as copy, open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def bench_loader_vs_ceiling(b: Any, rows: int, samples: int = 3) -> dict[str, Any]:
    sales = _count_sales(b)
    path = b.make_file(dt.date(2027, 1, 1), rows, 77)
    ours, ceiling = [], []
    for i in range(samples):
        key = f"incoming/at_scale_{i}.csv"
        b.upload(key, path)
        checkpoint(b.settings)
        ours.append(b.load_once(key)["seconds"])
        checkpoint(b.settings)
        ceiling.append(_plain_copy(b, path))
    ours_s, ceiling_s = statistics.median(ours), statistics.median(ceiling)
    return {"warehouse_sales": sales, "rows": rows, "samples": samples,
            "loader_s": ours, "ceiling_s": ceiling,
            "loader_rows_per_s": rows / ours_s, "ceiling_rows_per_s": rows / ceiling_s,
            "share_of_ceiling": ceiling_s / ours_s}


def _count_sales(b: Any) -> int:
    import psycopg

    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        return int(conn.execute("select count(*) from raw.sales").fetchone()[0])


def _burst_seconds(b: Any, paths: list[Path], members: int,
                   bin_dir: Path) -> tuple[float, float]:
    """Announce every file on fresh topics, run `members` loaders; (first received -> last
    loaded, share of the machine's CPU time busy meanwhile)."""
    import psycopg

    from announcer.announce import make_event
    from salespipe import kafka

    run = uuid.uuid4().hex[:6]
    topics = [f"bench.members.{run}.{t}" for t in ("files", "dlq", "loads")]
    kafka.ensure_topics(b.settings, wanted={topics[0]: 4, topics[1]: 1, topics[2]: 1})
    keys = []
    for i, path in enumerate(paths):
        key = f"incoming/members_{run}_{i:02d}.csv"
        b.upload(key, path)
        keys.append(key)
    import json

    from confluent_kafka import Producer

    producer = Producer(kafka.producer_config(b.settings))
    # Round-robin over the 4 partitions: hashing 10 keys put 8 of them on two partitions in
    # one run, so one member had almost nothing to do whatever the loader does; many keys
    # spread evenly on average, which is the case to measure.
    for i, (key, path) in enumerate(zip(keys, paths, strict=True)):
        head = b.s3.head_object(Bucket=b.settings.BUCKET_NAME, Key=key)
        event = make_event(b.settings.BUCKET_NAME, key, path.stat().st_size, head["ETag"].strip('"'))
        producer.produce(topics[0], key=key.encode(), value=json.dumps(event).encode(),
                         partition=i % 4)
    producer.flush(30)
    checkpoint(b.settings)
    cmd = [str(bin_dir / "salespipe"), "load", "--no-dbt", "--exit-when-idle", "3", "--group",
           f"g-{topics[0]}", "--files-topic", topics[0], "--dlq-topic", topics[1],
           "--loads-topic", topics[2]]
    busy_before = _cpu_ticks()
    procs = [subprocess.Popen(cmd, env=b.env, stderr=subprocess.DEVNULL) for _ in range(members)]
    for p in procs:
        p.wait(1800)
    busy, total = (after - before for after, before in zip(_cpu_ticks(), busy_before, strict=True))
    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        n, first, last = conn.execute(
            "select count(*), min(received_at), max(loaded_at) from raw.files where key = any(%s) "
            "and status = 'loaded'", (keys,)).fetchone()
    if n != len(keys):
        raise RuntimeError(f"{members} loader(s) loaded {n} of {len(keys)} files")
    return (last - first).total_seconds(), busy / total if total else 0.0


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def bench_loader_members(b: Any, files: int, rows: int, bin_dir: Path, samples: int = 2) -> dict:
    """Also records how busy the machine's CPUs were while one loader ran: a second loader
    can only add what one leaves idle (loader, PostgreSQL and S3 share the same cores)."""
    paths = [b.make_file(dt.date(2027, 2, 1) + dt.timedelta(days=i), rows, 500 + i)
             for i in range(files)]
    one, two, one_busy = [], [], []
    for _ in range(samples):
        seconds, busy = _burst_seconds(b, paths, 1, bin_dir)
        one.append(seconds)
        one_busy.append(busy)
        two.append(_burst_seconds(b, paths, 2, bin_dir)[0])
    one_s, two_s = statistics.median(one), statistics.median(two)
    return {"files": files, "rows_per_file": rows, "samples": samples, "one_loader_s": one,
            "two_loaders_s": two, "speedup": one_s / two_s,
            "cpu_busy_one_loader": statistics.median(one_busy)}
