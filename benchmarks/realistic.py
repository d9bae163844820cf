"""The loader where users live: a warehouse that already holds millions of sales, and a burst
of files shared by several loader processes.

- `bench_loader_vs_ceiling`: the loader (S3 download, parse, validate, COPY, commit; a warmed-up
  process, and a cold one as runs before 2026-12-07 timed it) against
  the fair ceiling for its job: plain `COPY` of the very same rows into a fresh table shaped
  like `raw.sales` (its primary key and indexes), with the keys supplied in the file the way
  the loader supplies them (a new, greatest file_id, ascending row numbers), commit inside
  the clock. Runs alternate, with a CHECKPOINT before each; medians are reported. A ceiling
  slower than the loader means the measurement is wrong, and the run says so (`valid`).
  Measured two ways side by side: the same file loaded again in every sample (the method
  until 2026-12-07), and a file with new sale_ids in every sample (`new_ids`).
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
from loader.build_lock import LOCK_KEY
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
    """Two methods in one run, sample by sample: the top-level figures load the one file again
    in each sample (the method until 2026-12-07), `new_ids` loads a file of its own in each
    sample, same day and size but sale_ids new to the warehouse, as a real day's file is (see
    `docs/benchmarks.md`); each side's ceiling copies the file that side loaded."""
    sales = _count_sales(b)
    day = dt.date(2027, 1, 1)
    path = b.make_file(day, rows, 77)
    next_file_id = _next_file_id(b)
    keyed = _keyed_copy_file(path, next_file_id)
    ours, cold, ceiling, stages = [], [], [], []
    new: dict[str, list[float]] = {"loader_s": [], "ceiling_s": []}
    for i in range(samples):
        once, cold_once = b.warm_and_cold(f"incoming/at_scale_{i}.csv", path, i)
        ours.append(once["seconds"])
        stages.append(once["timings_ms"])  # where the loader's time went, stage by stage
        cold.append(cold_once["seconds"])
        checkpoint(b.settings)
        ceiling.append(_ceiling_copy(b, keyed))

        own = b.make_file(day, rows, 1_000 + i)  # another seed: the same day, new sale_ids
        own_keyed = _keyed_copy_file(own, next_file_id)
        new["loader_s"].append(b.upload_and_load(f"incoming/at_scale_new_ids_{i}.csv", own)
                               ["seconds"])
        checkpoint(b.settings)
        new["ceiling_s"].append(_ceiling_copy(b, own_keyed))
        own.unlink()
        own_keyed.unlink()
    keyed.unlink()
    ours_s, ceiling_s = statistics.median(ours), statistics.median(ceiling)
    new_loader_s, new_ceiling_s = (statistics.median(new["loader_s"]),
                                   statistics.median(new["ceiling_s"]))
    return {"warehouse_sales": sales, "rows": rows, "samples": samples,
            "loader_s": ours, "ceiling_s": ceiling, "loader_timings_ms": stages,
            "loader_rows_per_s": rows / ours_s, "ceiling_rows_per_s": rows / ceiling_s,
            "share_of_ceiling": ceiling_s / ours_s, "valid": ceiling_s <= ours_s,
            "cold_loader_s": cold, "cold_share_of_ceiling": ceiling_s / statistics.median(cold),
            "method": "fresh table like raw.sales, keys in the file, commit in the clock",
            "new_ids": {**new, "loader_rows_per_s": rows / new_loader_s,
                        "ceiling_rows_per_s": rows / new_ceiling_s,
                        "share_of_ceiling": new_ceiling_s / new_loader_s,
                        "valid": new_ceiling_s <= new_loader_s}}


def _next_file_id(b: Any) -> int:
    import psycopg

    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        return int(conn.execute("select coalesce(max(file_id), 0) + 1 from raw.files"
                                ).fetchone()[0])


def _count_sales(b: Any) -> int:
    import psycopg

    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:
        return int(conn.execute("select count(*) from raw.sales").fetchone()[0])


def _burst_seconds(b: Any, paths: list[Path], members: int, bin_dir: Path) -> dict[str, float]:
    """Run `members` loaders (builds on, as `salespipe load` runs by default) in one group on
    fresh topics, wait until the group is stable, then announce every file at once the way
    the watcher does (`Announcer`: keyed by object key, so a file's partition is its key's
    hash). Returns seconds from the first file received to the last loaded and to the last
    built into the marts, how busy the CPUs were meanwhile (the whole machine, the loaders
    with their dbt builds, the PostgreSQL server; the rest is the S3 server and Kafka), and
    how often a build held the build lock when polled every 50 ms meanwhile (builds go one at
    a time: the build lane).

    Loaders are long-running services: a burst lands on a group that already formed. Starting
    the processes after the announcements would measure the group forming instead (the first
    member takes every partition, then hands half back), which a running pipeline pays once.
    """
    import signal

    import psycopg

    from announcer.announce import Announcer, S3Object
    from salespipe import kafka

    run = uuid.uuid4().hex[:6]
    topics = [f"bench.members.{run}.{t}" for t in ("files", "dlq", "loads")]
    partitions = b.settings.KAFKA_TOPIC_PARTITIONS
    kafka.ensure_topics(b.settings, wanted={topics[0]: partitions, topics[1]: 1, topics[2]: 1})
    # Several stores' prefixes, as a real inbox holds them.
    keys = [f"incoming/store-{i % 7:02d}/members_{run}_{i:02d}.csv" for i in range(len(paths))]
    for key, path in zip(keys, paths, strict=True):
        b.upload(key, path)
    group = f"g-{topics[0]}"
    cmd = [str(bin_dir / "salespipe"), "load", "--group", group,
           "--files-topic", topics[0], "--dlq-topic", topics[1], "--loads-topic", topics[2]]
    procs = [subprocess.Popen(cmd, env=b.env, stderr=subprocess.DEVNULL) for _ in range(members)]
    try:
        wait_until(lambda: _group_formed(b.settings, group, members), 120, "group formed")
        checkpoint(b.settings)
        announcer = Announcer(b.settings, topic=topics[0])
        loader_pids, postgres = {p.pid for p in procs}, {_postmaster_pid(b)}
        machine_before = _cpu_ticks()
        loaders_before, postgres_before = _tree_ticks(loader_pids), _tree_ticks(postgres)
        for key in keys:
            head = b.s3.head_object(Bucket=b.settings.BUCKET_NAME, Key=key)
            announcer.publish(S3Object(key, head["ETag"].strip('"'), int(head["ContentLength"])))
        announcer.flush(30)
        lane: list[bool] = []  # at each 50 ms poll: was a build holding the build lock?
        with psycopg.connect(**b.settings.pg_connect_kwargs(), autocommit=True) as conn:
            def built() -> int:
                done, building = conn.execute(
                    "select (select count(*) from raw.files where key = any(%s)"
                    "         and built_at is not null),"
                    "       exists(select 1 from pg_locks where locktype = 'advisory' and granted"
                    "              and classid = %s and objid = %s and objsubid = 2"
                    "              and database = (select oid from pg_database"
                    "                              where datname = current_database()))",
                    (keys, *LOCK_KEY)).fetchone()
                lane.append(building)
                return int(done)

            wait_until(lambda: built() == len(keys), 1800, f"{members} loader(s) loading")
            loaders = _tree_ticks(loader_pids) - loaders_before
            server = _tree_ticks(postgres) - postgres_before
            busy, total = (after - before
                           for after, before in zip(_cpu_ticks(), machine_before, strict=True))
            first, loaded, built_at = conn.execute(
                "select min(received_at), max(loaded_at), max(built_at) from raw.files"
                " where key = any(%s)", (keys,)).fetchone()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(120)
    return {"loaded_s": (loaded - first).total_seconds(),
            "built_s": (built_at - first).total_seconds(),
            "cpu_busy": busy / total if total else 0.0,
            # ticks of one core against ticks of all cores: a share of the whole machine
            "cpu_loaders": loaders / total if total else 0.0,
            "cpu_postgres": server / total if total else 0.0,
            # builds go one at a time: the share of the polls that found one running
            "build_lane_busy": sum(lane) / len(lane)}


def _postmaster_pid(b: Any) -> int:
    """The PostgreSQL server's main process (the parent of every backend): it runs on this
    machine, so its CPU can be read like the loaders'."""
    import psycopg

    with psycopg.connect(**b.settings.pg_connect_kwargs()) as conn:  # alive while it is read
        backend = int(conn.execute("select pg_backend_pid()").fetchone()[0])
        stat = Path(f"/proc/{backend}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _tree_ticks(roots: set[int]) -> int:
    """CPU ticks used so far by the processes `roots` and everything they started (dbt
    builds are the loaders' children, backends the PostgreSQL server's): each live
    descendant's own time plus what its reaped children used."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
        except (OSError, ValueError):
            continue
        fields = rest.rsplit(")", 1)[1].split()
        parents[int(pid)] = int(fields[1])
        times[int(pid)] = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid in roots:
                return True
            pid = parents.get(pid, 0)
        return False

    return sum(t for pid, t in times.items() if descends(pid))


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
    headline, the others go under "more". Also records how busy the CPUs were, and how much
    of that the loaders (with their builds) used: a second loader can only add what one
    leaves idle, and here the loaders, PostgreSQL, the S3 server and Kafka share two cores."""
    first, *more = [_members_on(b, files, rows, bin_dir, samples) for files, rows in bursts]
    return {**first, "more": more}


def _members_on(b: Any, files: int, rows: int, bin_dir: Path, samples: int) -> dict[str, Any]:
    paths = [b.make_file(dt.date(2027, 2, 1) + dt.timedelta(days=i), rows, 500 + i)
             for i in range(files)]
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(samples):
        for members in (1, 2):
            runs[members].append(_burst_seconds(b, paths, members, bin_dir))

    def median(members: int, what: str) -> float:
        return statistics.median(r[what] for r in runs[members])

    return {"files": files, "rows_per_file": rows, "samples": samples,
            "method": "watcher's keyed partitions, builds on",
            "one_loader": runs[1], "two_loaders": runs[2],
            "speedup": median(1, "loaded_s") / median(2, "loaded_s"),
            "speedup_built": median(1, "built_s") / median(2, "built_s"),
            "cpu_busy_one_loader": median(1, "cpu_busy"),
            "cpu_busy_two_loaders": median(2, "cpu_busy"),
            "cpu_loaders_one_loader": median(1, "cpu_loaders"),
            "cpu_loaders_two_loaders": median(2, "cpu_loaders"),
            "cpu_postgres_one_loader": median(1, "cpu_postgres"),
            "cpu_postgres_two_loaders": median(2, "cpu_postgres"),
            "build_lane_busy_one_loader": median(1, "build_lane_busy"),
            "build_lane_busy_two_loaders": median(2, "build_lane_busy")}
