"""`make bench`: reproducible figures, each side by side with its obvious alternative.

Runs on the local services in a world of its own (database, bucket, topics), prepares its data
with the generator, and writes `docs/benchmarks.md` plus `docs/benchmarks.json`.
`--smoke` runs the same code on tiny inputs (part of `make test`, so this never rots).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import checkpoint, wait_until
from benchmarks.limits import bench_limits
from benchmarks.realistic import bench_loader_members, bench_loader_vs_ceiling
from cli.local import manager
from generator.core import write_csv
from salespipe import db, kafka, s3
from salespipe.settings import load_settings, project_root

BIN = Path(sys.executable).parent

# What the code under measurement does, recorded with each figure (docs/benchmarks.md keeps
# earlier figures under their own labels as `*_history`).
CURRENT = {
    "loader": "10,000-row chunks (the COPY starts after the first one), valid rows stay Arrow "
              "arrays, pyarrow renders the COPY CSV in the writer thread, unquoted where no "
              "value needs quotes; quantities and optional days checked by one cast; a "
              "warmed-up loader process (cold figures beside it)",
    "freshness": "inbox watcher (S3_AFTER_LOAD=move lists only incoming/), 5,000-row files as "
                 "the target's issue measures them, plus keys sorting before every key seen; "
                 "build window passed by the loader; waits for the start-up build to finish",
    "dbt_scale": "build window passed by the loader (--vars), no change log in dbt; index "
                 "probes and analyze_if_grown kept (macros/performance.sql)",
}


class Bench:
    """One isolated world for the whole run."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        suffix = uuid.uuid4().hex[:6]
        manager.up(load_settings(), log=lambda _l: None)
        self.settings = load_settings(POSTGRES_DB=f"bench_{suffix}", BUCKET_NAME=f"bench-{suffix}")
        db.ensure_database(self.settings, self.settings.pg_db)
        db.migrate(self.settings)
        s3.ensure_bucket(self.settings)
        self.topic = f"bench.{suffix}.files"
        self.topics = (self.topic, f"bench.{suffix}.dlq", f"bench.{suffix}.loads")
        kafka.ensure_topics(self.settings, wanted={self.topic: 3, self.topics[1]: 1,
                                                    self.topics[2]: 1})
        self.s3 = s3.client(self.settings)
        self.tmp = Path(tempfile.mkdtemp(prefix="salespipe-bench-"))
        self.env = {**os.environ, **self.settings.as_env()}

    def close(self) -> None:
        """Leave nothing behind: a full run writes ~10 GB into PostgreSQL and ~2 GB of
        objects into the (in-memory) S3 server."""
        import shutil

        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.settings.BUCKET_NAME):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=self.settings.BUCKET_NAME,
                                       Delete={"Objects": keys})
        self.s3.delete_bucket(Bucket=self.settings.BUCKET_NAME)
        db.drop_database(self.settings, self.settings.POSTGRES_DB)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def make_file(self, day: dt.date, rows: int, seed: int) -> Path:
        path = self.tmp / f"{day}_{rows}_{seed}.csv"
        with open(path, "wb") as fh:
            write_csv(fh, day, rows, seed)
        return path

    def upload(self, key: str, path: Path) -> None:
        self.s3.upload_file(str(path), self.settings.BUCKET_NAME, key)

    def load_once(self, key: str, cold: bool = False,
                  settings: dict[str, str] | None = None) -> dict[str, Any]:
        """The loader on one object in a fresh process; `settings` override the environment
        (e.g. a LOADER_MAX_* limit)."""
        cmd = [str(BIN / "python"), "-m", "benchmarks.load_once", "--key", key]
        out = subprocess.run([*cmd, "--cold"] if cold else cmd,
                             env={**self.env, **(settings or {})}, capture_output=True,
                             text=True, check=True,
                             cwd=project_root())
        return json.loads(out.stdout.strip().splitlines()[-1])

    def load_once_loaded(self, key: str, cold: bool = False) -> dict[str, Any]:
        """`load_once` of a file that must load: a timing of a rejection is no figure."""
        run = self.load_once(key, cold)
        if run["status"] != "loaded":
            raise RuntimeError(f"{key} was {run['status']}: {run.get('reason')}")
        return run

    def upload_and_load(self, key: str, path: Path, cold: bool = False) -> dict[str, Any]:
        """`path` put under `key`, a CHECKPOINT, then `load_once_loaded`: one timed load."""
        self.upload(key, path)
        checkpoint(self.settings)
        return self.load_once_loaded(key, cold=cold)

    def warm_and_cold(self, key: str, path: Path, sample: int) -> tuple[dict[str, Any],
                                                                        dict[str, Any]]:
        """(warm, cold) loads of `path` under two keys, a CHECKPOINT before each; which goes
        first alternates with `sample`. In a fixed order the first of the pair was the slower
        (it follows the previous sample's other side and whatever autovacuum it left): six
        swapped pairs on a 200,000-row file gave warm 1.00 s and cold 1.23 s (medians), where
        warm-first runs had shown warm slower."""
        runs: dict[bool, dict[str, Any]] = {}
        for cold in ((False, True) if sample % 2 == 0 else (True, False)):
            runs[cold] = self.upload_and_load(key.replace(".csv", "_cold.csv") if cold else key,
                                              path, cold=cold)
        return runs[False], runs[True]

    def dbt_build(self) -> float:
        from loader.dbt import run_build

        outcome = run_build(self.settings)
        if not outcome.success:
            raise RuntimeError(f"dbt build failed: {outcome.summary}")
        return outcome.seconds


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


# --- 6. generator ---------------------------------------------------------------------
def bench_generator(b: Bench, rows: int) -> dict[str, Any]:
    seconds, _ = timed(lambda: b.make_file(dt.date(2026, 1, 1), rows, 1))
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


# --- 1 + 5. loader throughput and memory, against the naive baseline ----------------------
def bench_loader(b: Bench, rows: int, compare_rows: int, samples: int) -> dict[str, Any]:
    """Peak RSS and stages on one `rows` file; then loader vs naive on one `compare_rows`
    file, `samples` runs each, alternating, a CHECKPOINT before each, median reported; and
    the same on a file of each sample's own, whose sale_ids are new to raw.sales (`new_ids`).

    Both timings cover the same window: download from S3, parse, validate, write. The naive
    side's `import pandas` and first connection happen before its clock starts (the loader's
    process has imported its modules, connected and warmed up before `load_once` starts
    timing). Each sample also times a cold loader process (`--cold`), the method of runs
    before 2026-12-07, so that figure stays beside the new one."""
    import pandas  # noqa: F401 - imported before the clock, like the loader's modules
    from sqlalchemy import create_engine

    from benchmarks.naive import naive_load

    big = b.make_file(dt.date(2026, 2, 1), rows, 2)
    b.upload("incoming/bench_big.csv", big)
    big.unlink()
    checkpoint(b.settings)
    ours_big = b.load_once("incoming/bench_big.csv")

    same = b.make_file(dt.date(2026, 2, 2), compare_rows, 3)
    engine = create_engine(b.settings.sqlalchemy_url())
    with engine.begin() as conn:
        conn.exec_driver_sql("create schema if not exists bench")

    def naive_sample(key: str) -> tuple[float, int]:
        def run() -> int:
            path = b.tmp / "naive_download.csv"
            b.s3.download_file(b.settings.BUCKET_NAME, key, str(path))
            valid, _rejected = naive_load(path, engine)
            path.unlink()
            return valid
        return timed(run)

    ours, cold, naive, peak = [], [], [], ours_big["peak_rss_mb"]
    new: dict[str, list[float]] = {"rows_per_s_samples": [], "naive_rows_per_s_samples": []}
    for i in range(samples):
        key = f"incoming/bench_compare_{i}.csv"  # a key per sample: a loaded key is skipped
        run, cold_run = b.warm_and_cold(key, same, i)
        ours.append(run["rows_valid"] / run["seconds"])
        cold.append(cold_run["rows_valid"] / cold_run["seconds"])
        peak = max(peak, run["peak_rss_mb"], cold_run["peak_rss_mb"])
        checkpoint(b.settings)
        naive_s, valid = naive_sample(key)
        naive.append(valid / naive_s)

        # The same comparison on a file of this sample's own: sale_ids new to raw.sales.
        own, own_key = b.make_file(dt.date(2026, 2, 2), compare_rows, 100 + i), key.replace(
            ".csv", "_new_ids.csv")
        own_run = b.upload_and_load(own_key, own)
        own.unlink()
        new["rows_per_s_samples"].append(own_run["rows_valid"] / own_run["seconds"])
        checkpoint(b.settings)
        naive_s, valid = naive_sample(own_key)
        new["naive_rows_per_s_samples"].append(valid / naive_s)
    engine.dispose()
    ours_rps, naive_rps = statistics.median(ours), statistics.median(naive)
    new_rps, new_naive_rps = (statistics.median(new["rows_per_s_samples"]),
                              statistics.median(new["naive_rows_per_s_samples"]))
    return {
        "rows": rows, "seconds": ours_big["seconds"],
        "rows_per_s_big": ours_big["rows_valid"] / ours_big["seconds"],
        "stages_ms": ours_big["timings_ms"], "peak_rss_mb": peak,
        "compare_rows": compare_rows, "samples": samples,
        "rows_per_s": ours_rps, "rows_per_s_samples": ours,
        "naive_rows": compare_rows, "naive_seconds": compare_rows / naive_rps,
        "naive_rows_per_s": naive_rps, "naive_rows_per_s_samples": naive,
        "speedup": ours_rps / naive_rps,
        "cold_rows_per_s_samples": cold, "cold_speedup": statistics.median(cold) / naive_rps,
        "new_ids": {**new, "rows_per_s": new_rps, "naive_rows_per_s": new_naive_rps,
                    "speedup": new_rps / new_naive_rps},
    }


# --- 1b. loader on an Excel export -----------------------------------------------------
def bench_loader_xlsx(b: Bench, rows: int) -> dict[str, Any]:
    from benchmarks.xlsx import write_xlsx

    path = write_xlsx(b.tmp / f"xlsx_{rows}.xlsx", dt.date(2026, 2, 3), rows, 4)
    b.upload("incoming/bench_export.xlsx", path)
    ours = b.load_once("incoming/bench_export.xlsx")
    return {"rows": rows, "bytes": path.stat().st_size, "seconds": ours["seconds"],
            "rows_per_s": ours["rows_valid"] / ours["seconds"], "stages_ms": ours["timings_ms"],
            "peak_rss_mb": ours["peak_rss_mb"]}


# --- 2. end-to-end freshness ----------------------------------------------------------
def _visible(conn: Any, day: dt.date) -> bool:
    row = conn.execute("select 1 from marts.kpi_daily_sales where sale_date = %s",
                       (day,)).fetchone()
    return row is not None


class LoadsWatcher:
    """When each key's batch summary arrived on `sales.loads`: the loader publishes it after
    the batch's `dbt build` has finished, so it marks "build finished" for that file."""

    def __init__(self, b: Bench) -> None:
        import threading

        from confluent_kafka import Consumer

        self.arrived: dict[str, float] = {}
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._consumer = Consumer(kafka.consumer_config(
            b.settings, f"bench-watch-{uuid.uuid4().hex[:6]}", **{"auto.offset.reset": "earliest"}))
        self._consumer.subscribe([b.topics[2]])
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self._consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            now = time.perf_counter()
            summary = json.loads(msg.value())
            for f in summary.get("files", []):
                self.arrived.setdefault(f["key"], now)
                dbt = summary.get("dbt")  # None: nothing changed, so no build was needed
                if dbt is not None and not dbt.get("success", False):
                    self.failed.append(f"{f['key']}: {dbt.get('summary')}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()


def bench_freshness(b: Bench, files: int, rows: int, burst_files: int,
                    burst_rows: int) -> dict[str, Any]:
    """With `salespipe watch` and `salespipe load` as users run them (default intervals):
    `files` files of `rows` uploaded one at a time, put -> day visible in
    marts.kpi_daily_sales and put -> that batch's build finished; then a burst of
    `burst_files` files of `burst_rows` uploaded at once, last put -> every day visible and
    last put -> every file's build finished."""
    import psycopg

    procs = [
        subprocess.Popen([str(BIN / "salespipe"), "watch", "--topic", b.topic], env=b.env,
                         stderr=subprocess.DEVNULL),
        subprocess.Popen([str(BIN / "salespipe"), "load", "--group", f"g-{b.topic}",
                          "--files-topic", b.topics[0], "--dlq-topic", b.topics[1],
                          "--loads-topic", b.topics[2]], env=b.env, stderr=subprocess.DEVNULL),
    ]
    loads = LoadsWatcher(b)
    try:
        # Named like daily exports, keys growing with time; then as many files whose keys each
        # sort before every key seen so far (another store's prefix, a back-filled day).
        late_files = files
        days = [dt.date(2025, 1, 1) + dt.timedelta(days=i)
                for i in range(files + burst_files + late_files)]
        paths = [b.make_file(day, burst_rows if files <= i < files + burst_files else rows, 100 + i)
                 for i, day in enumerate(days)]
        conn = psycopg.connect(**b.settings.pg_connect_kwargs(), autocommit=True)
        # The loader's start-up build must be over (it catches up on whatever earlier sections
        # left unbuilt), or the first file would wait behind it: the marts exist and no file
        # is pending, by the pipeline's own account.
        wait_until(lambda: _caught_up(conn), 600)
        def one_at_a_time(keys: list[str], at: slice) -> tuple[list[float], list[float]]:
            visible, built = [], []
            for key, day, path in zip(keys, days[at], paths[at], strict=True):
                t0 = time.perf_counter()
                b.upload(key, path)
                wait_until(lambda d=day: _visible(conn, d), 300)
                visible.append(time.perf_counter() - t0)
                wait_until(lambda k=key: k in loads.arrived, 300)
                built.append(loads.arrived[key] - t0)
            return visible, built

        visible, built = one_at_a_time([f"incoming/sales_{day}.csv" for day in days[:files]],
                                       slice(0, files))
        burst = slice(files, files + burst_files)
        burst_keys = [f"incoming/sales_{day}.csv" for day in days[burst]]
        for key, path in zip(burst_keys, paths[burst], strict=True):
            last_put = time.perf_counter()  # the clock starts as the last file is put
            b.upload(key, path)
        wait_until(lambda: all(_visible(conn, day) for day in days[burst]), 600)
        burst_visible = time.perf_counter() - last_put
        wait_until(lambda: all(k in loads.arrived for k in burst_keys), 600)
        burst_built = max(loads.arrived[k] for k in burst_keys) - last_put
        late_keys = [f"incoming/store-{late_files - i:02d}/sales_{day}.csv"
                     for i, day in enumerate(days[files + burst_files:])]
        late_visible, late_built = one_at_a_time(late_keys, slice(files + burst_files, None))
        conn.close()
        if loads.failed:
            raise RuntimeError(f"dbt build failed for {loads.failed}")
    finally:
        loads.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
    return {"files": files, "rows_per_file": rows,
            "one_by_one": _percentiles(visible), "one_by_one_built": _percentiles(built),
            "burst": {"files": burst_files, "rows_per_file": burst_rows,
                      "visible_s": burst_visible, "built_s": burst_built},
            "late_keys": _percentiles(late_visible), "late_keys_built": _percentiles(late_built)}


def _caught_up(conn: Any) -> bool:
    if conn.execute("select to_regclass('marts.pipeline_freshness')").fetchone()[0] is None:
        return False
    return not conn.execute("select is_dbt_behind from marts.pipeline_freshness").fetchone()[0]


def _percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    if not values:
        return {}
    q = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return {"p50": statistics.median(values), "p95": q[18], "max": values[-1], "n": len(values)}


# --- 3. dbt at scale + 4. dashboard at scale ---------------------------------------------
def _fill(b: Bench, total_rows: int, file_rows: int, start: dt.date) -> None:
    """Load `total_rows` sales through the real load path, a file a day."""
    loaded, i = 0, 0
    while loaded < total_rows:
        n = min(file_rows, total_rows - loaded)
        path = b.make_file(start + dt.timedelta(days=i), n, 1000 + i)
        key = f"incoming/fill_{start + dt.timedelta(days=i)}.csv"
        b.upload(key, path)
        path.unlink()
        b.load_once(key)
        loaded, i = loaded + n, i + 1


def _add_file_and_build(b: Bench, day: dt.date, rows: int) -> float:
    path = b.make_file(day, rows, 4242)
    b.upload(f"incoming/increment_{day}.csv", path)
    b.load_once(f"incoming/increment_{day}.csv")
    return b.dbt_build()


# What one full page run of the dashboard executes (dashboard/data.py), unfiltered.
PAGE_QUERIES = ("DAY_BOUNDS", "SEGMENTS", "FRESHNESS", "DAILY", "CATEGORIES", "TOP_PRODUCTS",
                "PRODUCT_IDENTITY", "REJECTED_BY_REASON", "PROBLEM_FILES")


def bench_dashboard_queries(b: Bench, repeats: int = 5) -> dict[str, Any]:
    import psycopg

    from dashboard import queries

    with psycopg.connect(**b.settings.pg_connect_kwargs(), autocommit=True) as conn:
        first, last = conn.execute(
            "select min(sale_date), max(sale_date) from marts.kpi_daily_sales").fetchone()
        statements = [(name, getattr(queries, name)) for name in PAGE_QUERIES]
        out: dict[str, Any] = {"queries": len(statements)}
        # The default 30-day window (what a manager opens: it holds only the newest days),
        # and the whole history (every sale of the warehouse in the period's aggregates).
        for label, start in (("", last - dt.timedelta(days=29)), ("all_days_", first)):
            params = _dashboard_params(start, last)
            runs = []
            for _ in range(repeats):
                t = time.perf_counter()
                for _name, sql in statements:
                    conn.execute(_to_psycopg(sql), params).fetchall()
                runs.append(time.perf_counter() - t)
            out[f"{label}ms_median"] = statistics.median(runs) * 1000
            out[f"{label}ms_max"] = max(runs) * 1000
            out[f"{label}days"] = (last - start).days + 1
    return out


def _dashboard_params(start: dt.date, last: dt.date) -> dict[str, Any]:
    from dashboard import queries

    return {"start": start, "end": last, "day": last, "prev_day": last - dt.timedelta(days=1),
            "region": queries.ALL, "channel": queries.ALL, "limit": 100}


def _to_psycopg(sql: str) -> str:
    """The dashboard binds `:name` through SQLAlchemy; psycopg wants `%(name)s`."""
    import re

    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql)


def bench_apptest(b: Bench) -> float:
    from streamlit.testing.v1 import AppTest

    saved = dict(os.environ)
    os.environ.update(b.env)  # the app reads its settings from the environment
    try:
        at = AppTest.from_file(str(project_root() / "dashboard" / "app.py"), default_timeout=60)
        seconds, _ = timed(at.run)
    finally:  # the bench's world is dropped at the end: leave no pointer to it behind
        os.environ.clear()
        os.environ.update(saved)
    if at.exception:
        raise RuntimeError(f"dashboard raised: {at.exception}")
    return seconds


def _last_build_nodes(top: int = 6) -> dict[str, Any]:
    """dbt's own account of the build just run: its elapsed time and its slowest nodes, so a
    figure that moves says where it moved."""
    from salespipe.settings import state_dir

    results = json.loads((state_dir() / "dbt-target" / "run_results.json").read_text())
    slowest = sorted(results["results"], key=lambda r: r["execution_time"], reverse=True)[:top]
    return {"dbt_elapsed_s": results["elapsed_time"],
            "slowest": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
                        for r in slowest}}


def bench_dbt_scale(b: Bench, small: int, large: int, file_rows: int, inc_rows: int) -> dict:
    start = dt.date(2024, 1, 1)
    _fill(b, small, file_rows, start)
    b.dbt_build()
    builds: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    for size, day in (("small", dt.date(2026, 6, 1)), ("small", dt.date(2026, 6, 2))):
        builds[size].append({"seconds": _add_file_and_build(b, day, inc_rows),
                             **_last_build_nodes()})
    _fill(b, large - small, file_rows, start + dt.timedelta(days=large // file_rows + 10))
    b.dbt_build()
    for size, day in (("large", dt.date(2026, 6, 3)), ("large", dt.date(2026, 6, 4))):
        builds[size].append({"seconds": _add_file_and_build(b, day, inc_rows),
                             **_last_build_nodes()})
    small_s = min(x["seconds"] for x in builds["small"])
    large_s = min(x["seconds"] for x in builds["large"])
    dashboard = bench_dashboard_queries(b)
    dashboard["apptest_s"] = bench_apptest(b)
    return {"small_sales": small, "large_sales": large, "increment_rows": inc_rows,
            "small_build_s": small_s, "large_build_s": large_s, "ratio": large_s / small_s,
            "builds": builds, "dashboard": dashboard}


# --- 7. watcher poll cost with a long bucket history --------------------------------------
def _history_key(i: int) -> str:
    return f"sales_{dt.date(2000, 1, 1) + dt.timedelta(days=i // 10)}_{i % 10:06d}.csv"


def _put_history(settings: Any, prefix: str, objects: int) -> None:
    """Put `objects` one-byte files under `prefix`. Runs in a process of its own: the stores
    upload the history, not the watcher. Done in the timing process (until 2026-12-06), the
    ~300,000 objects botocore leaves behind for 100,000 puts were collected by Python's GC
    during one timed poll: 552 ms, against 2-5 ms for the others (a gen-0 collection of
    298,919 objects, seen with `gc.callbacks`)."""
    from concurrent.futures import ThreadPoolExecutor

    client = s3.client(settings, max_pool_connections=16)
    with ThreadPoolExecutor(16) as pool:
        for _ in pool.map(lambda i: client.put_object(Bucket=settings.BUCKET_NAME,
                                                      Key=prefix + _history_key(i), Body=b"x"),
                          range(objects)):
            pass


def bench_watcher(b: Bench, objects: int, polls: int = 10) -> dict[str, Any]:
    """The watcher's poll on versitygw with `objects` files of history. Inbox
    (`S3_AFTER_LOAD=move`, the default): the history sits in processed/ and one new file at
    a time arrives in incoming/ (keys sorting ever earlier), then leaves as a load would move
    it. Then the same history left in incoming/ (`tag`/`none`): every poll lists all of it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from announcer.announce import Announcer
    from announcer.watcher import WatchState, poll_once
    from cli.local.versitygw import settings_for, start_gateway

    gateway = start_gateway()
    topic = f"{b.topic}.watch"
    kafka.ensure_topics(b.settings, wanted={topic: 1})
    try:
        settings = settings_for(gateway, b.settings).model_copy(
            update={"BUCKET_NAME": "bench-watch"})
        s3.ensure_bucket(settings)
        bucket = settings.BUCKET_NAME
        client = s3.client(settings)

        def put_all(prefix: str) -> None:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                pool.submit(_put_history, settings, prefix, objects).result()

        put_all("processed/")
        announcer = Announcer(settings, topic)
        state_path = b.tmp / "watch-state.json"
        state = WatchState(state_path)
        idle, new = [], []
        for i in range(polls):
            idle.append(timed(lambda: poll_once(settings, client, announcer, state))[0])
            key = f"incoming/store-{polls - i:02d}/{_history_key(i)}"  # each sorts before the last
            client.put_object(Bucket=bucket, Key=key, Body=b"y")
            seconds, found = timed(lambda: poll_once(settings, client, announcer, state))
            assert found == 1, found
            new.append(seconds)
            client.delete_object(Bucket=bucket, Key=key)  # what the load's move does
        inbox_state_bytes = state_path.stat().st_size
        floor = statistics.median(
            timed(lambda: client.list_objects_v2(Bucket=bucket, Prefix="processed/",
                                                 MaxKeys=1))[0] for _ in range(3))
        put_all("incoming/")
        first_s, first = timed(lambda: poll_once(settings, client, announcer, state))
        assert first == objects, first
        history = [timed(lambda: poll_once(settings, client, announcer, state))[0]
                   for _ in range(3)]
        # in the order they ran: the first is the process's first request to the server
        every = [s for pair in zip(idle, new, strict=True) for s in pair]
        return {"server": "versitygw v1.8.0 (posix)", "objects": objects, "polls": polls,
                "history_put_by": "another process",
                "polls_ms": [round(s * 1000, 2) for s in every],
                "poll_ms_median": statistics.median(idle + new) * 1000,
                "poll_ms_max": max(idle + new) * 1000,
                "poll_new_ms_median": statistics.median(new) * 1000,
                "state_bytes": inbox_state_bytes,
                "one_key_list_request_ms": floor * 1000,
                "history_in_incoming": {"poll_ms_median": statistics.median(history) * 1000,
                                        "first_poll_s": first_s,
                                        "state_bytes": state_path.stat().st_size}}
    finally:
        gateway.stop()


# --- report -------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {"cpus": os.cpu_count(), "mem_gib": round(int(mem) / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _commit() -> str:
    """The commit measured (with `+dirty` when the work tree has changes), for the history."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project_root(), capture_output=True,  # noqa: S603, S607
                              text=True, check=False).stdout.strip()
    return (git("rev-parse", "--short", "HEAD") or "unknown") + (
        "+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


# The sections whose earlier figures docs/benchmarks.md lists under "Before" (the limits
# table and the one-off figures have none).
HISTORIES = ("loader", "freshness", "dbt_scale", "loader_at_scale", "loader_members", "watcher")


def retire(recorded: dict[str, Any], section: str) -> None:
    """Move a recorded section into its history before it is measured again, dated (a section
    of a whole run carries the run's date), so a new run never silently replaces a figure."""
    old = {**recorded[section]}
    old.setdefault("measured_at", recorded["machine"]["date"])
    recorded.setdefault(f"{section}_history", []).append(old)


def write_report(results: dict[str, Any], out: Path) -> None:
    """The raw figures, the report rendered from them, one line appended to the history
    (`benchmarks-history.jsonl`: every run, with its commit, so a regression shows) and,
    when writing the project's own docs/, the README's benchmark table."""
    from benchmarks.report import render, update_readme

    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "benchmarks.md").write_text(render(results))
    with open(out / "benchmarks-history.jsonl", "a") as history:
        history.write(json.dumps({"commit": _commit(), **results}, default=str) + "\n")
    if out.resolve() == (project_root() / "docs").resolve() and not results.get("smoke"):
        readme = project_root() / "README.md"
        readme.write_text(update_readme(readme.read_text(), json.loads(
            (out / "benchmarks.json").read_text())))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes (used by the test suite)")
    p.add_argument("--out", type=Path, default=project_root() / "docs")
    p.add_argument("--only", choices=["loader", "freshness", "watcher", "members", "scale",
                                      "limits"],
                   default=None,
                   help="re-measure one section; the others are kept from the last report")
    p.add_argument("--large", type=int, default=None,
                   help="sales in the large warehouse (default 10,000,000)")
    args = p.parse_args(argv)
    sizes = dict(gen=2_000, load=5_000, compare=1_000, samples=3, xlsx=500, fresh_files=2,
                 fresh_rows=200, burst_files=2, burst_rows=200, small=2_000, large=6_000,
                 file_rows=2_000, inc=500, members=[(2, 500), (2, 1_000)], members_samples=1,
                 watch=300, limits=2_000, bomb=80 << 20, unpack_limit=64 << 20) if args.smoke else dict(
        gen=1_000_000, load=1_000_000, compare=200_000, samples=3, xlsx=100_000, fresh_files=20,
        fresh_rows=5_000, burst_files=10, burst_rows=5_000, small=100_000, large=10_000_000,
        file_rows=200_000, inc=10_000, members=[(24, 5_000), (12, 100_000)],
        members_samples=3, watch=100_000, limits=10_000_000, bomb=5 << 30, unpack_limit=None)
    if args.large:
        sizes["large"] = args.large
    b = Bench(args.smoke)
    try:
        return _run(args, sizes, b)
    finally:
        b.close()


def _run(args: argparse.Namespace, sizes: dict[str, Any], b: Bench) -> int:
    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "sizes": sizes}
    started = time.perf_counter()
    if args.only:
        previous = json.loads((args.out / "benchmarks.json").read_text())
        if args.only in ("watcher", "members", "scale", "limits"):
            if args.only == "limits":  # no history: the table lists every file's outcome
                previous["limits"] = bench_limits(b, sizes["limits"], sizes["bomb"], sizes["unpack_limit"])
            elif args.only == "watcher":
                retire(previous, "watcher")
                previous["watcher"] = bench_watcher(b, sizes["watch"])
            elif args.only == "members":
                retire(previous, "loader_members")
                previous["loader_members"] = bench_loader_members(b, sizes["members"], BIN,
                                                     sizes["members_samples"])
            else:  # `b` is a fresh warehouse: fill it, then the loader against plain COPY
                retire(previous, "dbt_scale")
                previous["dbt_scale"] = bench_dbt_scale(b, sizes["small"], sizes["large"],
                                                        sizes["file_rows"], sizes["inc"])
                previous["dbt_scale"]["label"] = CURRENT["dbt_scale"]
                retire(previous, "loader_at_scale")
                previous["loader_at_scale"] = bench_loader_vs_ceiling(b, sizes["load"])
            sections = {"watcher": ["watcher"], "members": ["loader_members"], "limits": ["limits"],
                        "scale": ["dbt_scale", "loader_at_scale"]}[args.only]
            for section in sections:
                previous[section]["measured_at"] = machine()["date"]
            write_report(previous, args.out)
            print(f"wrote {args.out / 'benchmarks.md'}")
            return 0
        retire(previous, args.only)
        if args.only == "loader":
            previous["loader"] = bench_loader(b, sizes["load"], sizes["compare"], sizes["samples"])
        else:
            previous["freshness"] = bench_freshness(b, sizes["fresh_files"], sizes["fresh_rows"],
                                                   sizes["burst_files"], sizes["burst_rows"])
        previous[args.only]["measured_at"] = machine()["date"]
        previous[args.only]["label"] = CURRENT[args.only]
        write_report(previous, args.out)
        print(f"wrote {args.out / 'benchmarks.md'}")
        return 0
    print("generator ...", flush=True)
    results["generator"] = bench_generator(b, sizes["gen"])
    print("loader vs naive ...", flush=True)
    results["loader"] = bench_loader(b, sizes["load"], sizes["compare"], sizes["samples"])
    print("loader, .xlsx ...", flush=True)
    results["loader_xlsx"] = bench_loader_xlsx(b, sizes["xlsx"])
    print("freshness ...", flush=True)
    results["freshness"] = bench_freshness(b, sizes["fresh_files"], sizes["fresh_rows"],
                                           sizes["burst_files"], sizes["burst_rows"])
    print("one loader vs two on a burst ...", flush=True)
    results["loader_members"] = bench_loader_members(b, sizes["members"], BIN,
                                                     sizes["members_samples"])
    print("watcher ...", flush=True)
    results["watcher"] = bench_watcher(b, sizes["watch"])
    print("loader memory on a huge file and the hostile corpus ...", flush=True)
    results["limits"] = bench_limits(b, sizes["limits"], sizes["bomb"], sizes["unpack_limit"])
    print("dbt and dashboard at scale ...", flush=True)
    b2 = Bench(args.smoke)  # a clean warehouse for the scale test
    try:
        results["dbt_scale"] = bench_dbt_scale(b2, sizes["small"], sizes["large"],
                                               sizes["file_rows"], sizes["inc"])
        print("loader vs plain COPY into the full warehouse ...", flush=True)
        results["loader_at_scale"] = bench_loader_vs_ceiling(b2, sizes["load"])
    finally:
        b2.close()
    results["bench_seconds"] = time.perf_counter() - started
    for section, label in CURRENT.items():
        results[section]["label"] = label
    previous_path = args.out / "benchmarks.json"
    if previous_path.exists() and not args.smoke:  # keep the recorded before/after figures
        previous = json.loads(previous_path.read_text())
        for section in HISTORIES:
            if section in previous:
                retire(previous, section)
        results.update({k: v for k, v in previous.items() if k.endswith("_history")})
    write_report(results, args.out)
    print(f"wrote {args.out / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
