"""Builds never collide: while the loader loads a stream of files and runs its own builds, one
analyst runs `salespipe build` on the shared schemas (it queues on the build lock) and
another runs a plain `dbt build` on their own dev schemas (no lock). Every build must
succeed, and the marts must end equal to values computed here from the files and to a
`--full-refresh`. A plain prod build outside `salespipe build` stops at once."""

from __future__ import annotations

import datetime as dt
import random
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from loader.dbt import DbtWorker, run_build
from salespipe import db
from tests.integration.dbt_support import (
    DBT,
    MART_KEYS,
    ROOT,
    LoadedFile,
    RawFile,
    expected_marts,
    insert_raw,
    read_mart,
    run_dbt,
    sale,
)
from tests.integration.test_dbt_marts import FCT_BOOKKEEPING, FCT_KEY
from tests.integration.test_loader_processes import SALESPIPE

pytestmark = pytest.mark.integration

FILES = 24
ANALYST_BUILDS = 2
PRODUCTS = [("P-001", "Notebook", "Electronics"), ("P-002", "Clean Code", "Books"),
            ("P-003", "Office Chair", "Furniture")]


def stream(seed: int = 7) -> list[RawFile]:
    """Small files over a week: new sales, restatements that move a sale to another day,
    canceled restatements, and new versions of earlier objects that drop sales. The last
    file is a new version of the first one that moves all its sales away from 2026-03-01,
    so that day loses every sale it had."""
    rng = random.Random(seed)
    files: list[RawFile] = []
    sold: list[str] = []
    at = dt.datetime(2026, 3, 8, tzinfo=dt.UTC)
    first_rows = [sale(f"C{n:03d}", day="2026-03-01", qty=n + 1) for n in range(3)]
    files.append(RawFile(key="incoming/first.csv", etag="first-1", modified_at=at,
                         rows=first_rows))
    for i in range(1, FILES - 1):
        rows = []
        for _ in range(rng.randint(1, 4)):
            pid, name, cat = rng.choice(PRODUCTS)
            restate = sold and rng.random() < 0.3
            sale_id = rng.choice(sold) if restate else f"C{100 + len(sold):03d}"
            if not restate:
                sold.append(sale_id)
            rows.append(sale(sale_id, day=f"2026-03-0{rng.randint(2, 7)}",
                             qty=rng.randint(1, 5), price=f"{rng.randint(5, 300)}.{rng.randint(0, 99):02d}",
                             discount=str(rng.choice([0, 5, 10])),
                             status="Canceled" if rng.random() < 0.15 else "Paid",
                             product_id=pid, product_name=name, product_category=cat,
                             sales_region=rng.choice(["Norte", "Sudeste"]),
                             sales_channel=rng.choice(["Online", "Store"])))
        if i % 7 == 0 and len(files) > 2:  # a new version of an earlier object, fewer rows
            old = files[rng.randint(1, len(files) - 1)]
            files.append(RawFile(key=old.key, etag=f"{old.etag}-v{i}",
                                 modified_at=at + dt.timedelta(minutes=i),
                                 rows=old.rows[: max(0, len(old.rows) - 1)]))
        else:
            files.append(RawFile(key=f"incoming/s{i:02d}.csv", etag=f"s{i}",
                                 modified_at=at + dt.timedelta(minutes=i), rows=rows))
    moved = [{**r, "sale_date": "2026-03-02"} for r in first_rows]
    files.append(RawFile(key="incoming/first.csv", etag="first-2",
                         modified_at=at + dt.timedelta(hours=1), rows=moved))
    return files


def test_analyst_and_loader_builds_during_a_stream_all_succeed_with_exact_marts(world, tmp_path):
    settings = world.settings
    transform = settings.for_component("transform")
    loaded: list[LoadedFile] = []
    errors: list[BaseException] = []
    outputs: list[str] = []
    streaming = threading.Event()
    streaming.set()
    loader_builds = []

    def feed() -> None:
        with db.connect(settings, autocommit=True) as conn:
            for spec in stream():
                loaded.append(insert_raw(conn, spec))
                time.sleep(0.4)
        streaming.clear()

    def prod_analyst() -> None:
        for _ in range(ANALYST_BUILDS):
            proc = subprocess.run([SALESPIPE, "build"], env=world.env, capture_output=True,
                                  text=True, timeout=600, check=False)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
            outputs.append(proc.stderr)

    def dev_analyst() -> None:
        for i in range(ANALYST_BUILDS):
            run_dbt(settings, "build", target=tmp_path / f"dev-{i}", target_name="dev")

    def loader() -> None:
        worker = DbtWorker(transform)
        try:
            while streaming.is_set():
                loader_builds.append(run_build(transform, worker))
        finally:
            worker.close()

    def guarded(fn, *args) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test below
            errors.append(exc)

    # As in the pipeline, where a loader that starts builds first: the shared schemas exist
    # before anyone builds beside anyone else.
    assert run_build(transform).success
    threads = [threading.Thread(target=guarded, args=(feed,)),
               threading.Thread(target=guarded, args=(loader,)),
               threading.Thread(target=guarded, args=(prod_analyst,)),
               threading.Thread(target=guarded, args=(dev_analyst,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    assert not errors, errors
    assert loader_builds and all(b.success for b in loader_builds), [
        b.summary for b in loader_builds if not b.success]
    # The builds met: `salespipe build` queued on the loader's lock instead of failing.
    assert any("salespipe build: waiting for the build running in" in out for out in outputs)

    assert run_build(transform).success  # everything loaded is in
    want = expected_marts(loaded)
    assert (dt.date(2026, 3, 1),) not in want["kpi_daily_sales"]  # the day that lost its sales
    with db.connect(settings, autocommit=True) as conn:
        marts = {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()}
        fct = read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING)
        for name in MART_KEYS:
            assert marts[name] == want[name], name
        run_dbt(settings, "build", "--full-refresh", target=Path(tmp_path) / "full")
        assert {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()} == marts
        assert read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING) == fct


def test_plain_prod_build_stops_at_once_naming_salespipe_build(world, tmp_path):
    with pytest.raises(AssertionError) as failed:
        run_dbt_unlocked(world.settings, tmp_path)
    message = str(failed.value)
    # dbt masks its secret env vars in what it prints, and the local password is the
    # project's name: the command may read `***** build` here.
    assert re.search(r"run one at a time through `(salespipe|\*+) build`", message), message
    assert "OK created" not in message  # stopped before any model
    with db.connect(world.settings, autocommit=True) as conn:
        assert conn.execute("select to_regclass('marts.fct_sales')").fetchone() == (None,)


def test_salespipe_build_waits_for_the_holder_then_builds(world):
    from loader.build_lock import prod_build_lock

    with prod_build_lock(world.settings):
        proc = subprocess.Popen([SALESPIPE, "build", "--select", "stg_raw__files"],
                                env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(8)
        assert proc.poll() is None  # still waiting
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-2000:]
    assert "salespipe build: waiting for the build running in salespipe-build-lock" in err
    assert "Completed successfully" in out


def run_dbt_unlocked(settings, tmp_path):
    """`dbt build --target prod` as an analyst would type it, without `salespipe build`."""
    import os

    env = {**os.environ, "POSTGRES_HOST": settings.pg_host, "POSTGRES_PORT": str(settings.pg_port),
           "POSTGRES_USER": settings.pg_user, "DBT_ENV_SECRET_POSTGRES_PASSWORD": settings.pg_password,
           "POSTGRES_DB": settings.pg_db, "DO_NOT_TRACK": "1"}
    proc = subprocess.run([str(DBT), "build", "--project-dir", "dbt_sales", "--profiles-dir", ".",
                           "--target", "prod", "--target-path", str(tmp_path / "t"),
                           "--log-path", str(tmp_path / "l")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise AssertionError(proc.stdout)
    return proc
