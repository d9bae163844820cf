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

from generator.core import write_csv
from salespipe import db, kafka, s3
from salespipe.services import manager
from salespipe.settings import load_settings, project_root

BIN = Path(sys.executable).parent

# What the code under measurement does, recorded with each figure (docs/benchmarks.md keeps
# earlier figures under their own labels as `*_history`).
CURRENT = {
    "loader": "valid rows stay Arrow arrays end to end, pyarrow renders the COPY CSV in the "
              "writer thread",
    "freshness": "warm dbt worker per loader, no wait for a fuller batch, dbt planner fixes",
    "dbt_scale": "days and batch as literals, materialized CTEs in fct_sales, statistics "
                 "refreshed only when a table grew",
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

    def load_once(self, key: str) -> dict[str, Any]:
        out = subprocess.run([str(BIN / "python"), "-m", "benchmarks.load_once", "--key", key],
                             env=self.env, capture_output=True, text=True, check=True,
                             cwd=project_root())
        return json.loads(out.stdout.strip().splitlines()[-1])

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
def bench_loader(b: Bench, rows: int, naive_rows: int) -> dict[str, Any]:
    from sqlalchemy import create_engine

    from benchmarks.naive import naive_load

    big = b.make_file(dt.date(2026, 2, 1), rows, 2)
    b.upload("incoming/bench_big.csv", big)
    ours = b.load_once("incoming/bench_big.csv")
    small = b.make_file(dt.date(2026, 2, 2), naive_rows, 3)
    engine = create_engine(b.settings.sqlalchemy_url())
    with engine.begin() as conn:
        conn.exec_driver_sql("create schema if not exists bench")
    naive_s, (valid, _rej) = timed(lambda: naive_load(small, engine))
    engine.dispose()
    ours_rps = ours["rows_valid"] / ours["seconds"]
    naive_rps = valid / naive_s
    return {
        "rows": rows, "seconds": ours["seconds"], "rows_per_s": ours_rps,
        "stages_ms": ours["timings_ms"], "peak_rss_mb": ours["peak_rss_mb"],
        "naive_rows": naive_rows, "naive_seconds": naive_s, "naive_rows_per_s": naive_rps,
        "speedup": ours_rps / naive_rps,
    }


# --- 2. end-to-end freshness ----------------------------------------------------------
def _visible(conn: Any, day: dt.date) -> bool:
    row = conn.execute("select 1 from marts.kpi_daily_sales where sale_date = %s",
                       (day,)).fetchone()
    return row is not None


def bench_freshness(b: Bench, files: int, rows: int) -> dict[str, Any]:
    import psycopg

    procs = [
        subprocess.Popen([str(BIN / "salespipe"), "watch", "--interval", "0.2", "--topic",
                          b.topic], env=b.env, stderr=subprocess.DEVNULL),
        subprocess.Popen([str(BIN / "salespipe"), "load", "--group", f"g-{b.topic}",
                          "--files-topic", b.topics[0], "--dlq-topic", b.topics[1],
                          "--loads-topic", b.topics[2]], env=b.env, stderr=subprocess.DEVNULL),
    ]
    try:
        base_day = dt.date(2025, 1, 1)
        paths = [b.make_file(base_day + dt.timedelta(days=i), rows, 100 + i)
                 for i in range(2 * files)]
        conn = psycopg.connect(**b.settings.pg_connect_kwargs(), autocommit=True)
        _wait(lambda: _table_exists(conn), 120)  # first dbt build done: loader is warm
        one_by_one = []
        for i in range(files):
            day = base_day + dt.timedelta(days=i)
            t0 = time.perf_counter()
            b.upload(f"incoming/fresh_{day}.csv", paths[i])
            _wait(lambda d=day: _visible(conn, d), 300)
            one_by_one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        burst_days = [base_day + dt.timedelta(days=files + i) for i in range(files)]
        for i, day in enumerate(burst_days):
            b.upload(f"incoming/burst_{day}.csv", paths[files + i])
        burst, pending = {}, set(burst_days)
        while pending and time.perf_counter() - t0 < 600:
            for day in list(pending):
                if _visible(conn, day):
                    burst[day] = time.perf_counter() - t0
                    pending.discard(day)
            time.sleep(0.05)
        conn.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
    return {"files": files, "rows_per_file": rows,
            "one_by_one": _percentiles(one_by_one), "burst": _percentiles(list(burst.values()))}


def _table_exists(conn: Any) -> bool:
    return conn.execute("select to_regclass('marts.kpi_daily_sales')").fetchone()[0] is not None


def _wait(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError("benchmark condition not reached")


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
        last = conn.execute("select max(sale_date) from marts.kpi_daily_sales").fetchone()[0]
        params = _dashboard_params(last)
        statements = [(name, getattr(queries, name)) for name in PAGE_QUERIES]
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            for _name, sql in statements:
                conn.execute(_to_psycopg(sql), params).fetchall()
            runs.append(time.perf_counter() - t)
    return {"queries": len(statements), "ms_median": statistics.median(runs) * 1000,
            "ms_max": max(runs) * 1000}


def _dashboard_params(last: dt.date) -> dict[str, Any]:
    start = last - dt.timedelta(days=29)  # the default 30-day window
    return {"start": start, "end": last, "ma_start": start - dt.timedelta(days=6), "day": last,
            "prev_day": last - dt.timedelta(days=1), "regions": None, "channels": None,
            "limit": 100}


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


def bench_dbt_scale(b: Bench, small: int, large: int, file_rows: int, inc_rows: int) -> dict:
    start = dt.date(2024, 1, 1)
    _fill(b, small, file_rows, start)
    b.dbt_build()
    small_s = _add_file_and_build(b, dt.date(2026, 6, 1), inc_rows)
    small_s = min(small_s, _add_file_and_build(b, dt.date(2026, 6, 2), inc_rows))
    _fill(b, large - small, file_rows, start + dt.timedelta(days=large // file_rows + 10))
    b.dbt_build()
    large_s = _add_file_and_build(b, dt.date(2026, 6, 3), inc_rows)
    large_s = min(large_s, _add_file_and_build(b, dt.date(2026, 6, 4), inc_rows))
    dashboard = bench_dashboard_queries(b)
    dashboard["apptest_s"] = bench_apptest(b)
    return {"small_sales": small, "large_sales": large, "increment_rows": inc_rows,
            "small_build_s": small_s, "large_build_s": large_s, "ratio": large_s / small_s,
            "dashboard": dashboard}


# --- report -------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {"cpus": os.cpu_count(), "mem_gib": round(int(mem) / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def write_report(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=2, default=str))
    from benchmarks.report import render

    (out / "benchmarks.md").write_text(render(results))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes (used by the test suite)")
    p.add_argument("--out", type=Path, default=project_root() / "docs")
    p.add_argument("--only", choices=["loader", "freshness"], default=None,
                   help="re-measure one section; the others are kept from the last report")
    p.add_argument("--large", type=int, default=None,
                   help="sales in the large warehouse (default 10,000,000)")
    args = p.parse_args(argv)
    sizes = dict(gen=2_000, load=5_000, naive=1_000, fresh_files=2, fresh_rows=200,
                 small=2_000, large=6_000, file_rows=2_000, inc=500) if args.smoke else dict(
        gen=1_000_000, load=1_000_000, naive=100_000, fresh_files=20, fresh_rows=10_000,
        small=100_000, large=10_000_000, file_rows=200_000, inc=10_000)
    if args.large:
        sizes["large"] = args.large
    b = Bench(args.smoke)
    try:
        return _run(args, sizes, b)
    finally:
        b.close()


def _run(args: argparse.Namespace, sizes: dict[str, int], b: Bench) -> int:
    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "sizes": sizes}
    started = time.perf_counter()
    if args.only:
        previous = json.loads((args.out / "benchmarks.json").read_text())
        before = previous[args.only]
        if args.only == "loader":
            previous["loader"] = bench_loader(b, sizes["load"], sizes["naive"])
        else:
            previous["freshness"] = bench_freshness(b, sizes["fresh_files"], sizes["fresh_rows"])
        previous[args.only]["measured_at"] = machine()["date"]
        previous[args.only]["label"] = CURRENT[args.only]
        previous.setdefault(f"{args.only}_history", []).append(before)
        write_report(previous, args.out)
        print(f"wrote {args.out / 'benchmarks.md'}")
        return 0
    print("generator ...", flush=True)
    results["generator"] = bench_generator(b, sizes["gen"])
    print("loader vs naive ...", flush=True)
    results["loader"] = bench_loader(b, sizes["load"], sizes["naive"])
    print("freshness ...", flush=True)
    results["freshness"] = bench_freshness(b, sizes["fresh_files"], sizes["fresh_rows"])
    print("dbt and dashboard at scale ...", flush=True)
    b2 = Bench(args.smoke)  # a clean warehouse for the scale test
    try:
        results["dbt_scale"] = bench_dbt_scale(b2, sizes["small"], sizes["large"],
                                               sizes["file_rows"], sizes["inc"])
    finally:
        b2.close()
    results["bench_seconds"] = time.perf_counter() - started
    for section, label in CURRENT.items():
        results[section]["label"] = label
    previous_path = args.out / "benchmarks.json"
    if previous_path.exists() and not args.smoke:  # keep the recorded before/after figures
        previous = json.loads(previous_path.read_text())
        results.update({k: v for k, v in previous.items() if k.endswith("_history")})
    write_report(results, args.out)
    print(f"wrote {args.out / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
