"""dbt_sales on the real PostgreSQL: known rows in `raw`, the real `dbt build`, every KPI mart
checked against values computed here in Python from the same rows.

One module-scoped scenario keeps the number of builds at three (first build, incremental
build after a restatement and a new object version, full refresh); the tests then read the
snapshots it took.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.dbt_support import (
    MART_KEYS,
    LoadedFile,
    RawFile,
    expected_marts,
    insert_raw,
    read_mart,
    resolve_sales,
    run_dbt,
    sale,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

UTC = dt.UTC
FCT_KEY = ("sale_id",)
FCT_BOOKKEEPING = ("_loaded_at", "_file_id", "_row_number")


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


# -- the input files -------------------------------------------------------------------------

BOOK = {"product_id": "P-002", "product_name": "Clean Code", "product_category": "Books"}
CHAIR = {"product_id": "P-003", "product_name": "Office Chair", "product_category": "Furniture"}
STORE_NORTE = {"sales_channel": "Store", "sales_region": "Norte"}

STORE_A_V1 = RawFile(
    key="incoming/2026-03-01/store-a.csv", etag="etag-a1", modified_at=at(1, 20),
    rows=[
        sale("S001", day="2026-03-01", qty=2, price="100.00", discount="10"),
        sale("S002", day="2026-03-01", qty=1, price="250.00", discount="0", status="Canceled",
             delivery_status="Canceled", delivery_date=""),
        sale("S003", day="2026-03-01", qty=3, price="19.99", discount="5", status="Pending",
             unit_cost="12.00", customer_rating="5 stars", **BOOK),
        sale("S004", day="2026-03-02", qty=1, price="899.90", discount="0", unit_cost="500.00",
             customer_rating="1 star", **CHAIR, **STORE_NORTE),
        sale("S005", day="2026-03-01", qty=4, price="10.00", discount="0", unit_cost="5.00",
             **BOOK),
    ],
)
STORE_B = RawFile(
    key="incoming/2026-03-02/store-b.csv", etag="etag-b1", modified_at=at(2, 20),
    rows=[
        sale("S006", day="2026-03-02", qty=5, price="19.99", discount="0", unit_cost="12.00",
             **BOOK, **STORE_NORTE),
        sale("S007", day="2026-03-02", qty=1, price="100.00", discount="20"),
        # restatement of S004: moved to the next day with a new discount
        sale("S004", day="2026-03-03", qty=1, price="899.90", discount="10", unit_cost="500.00",
             customer_rating="", **CHAIR, **STORE_NORTE),
    ],
    rejects=[
        (4, {"sale_id": "S900", "unit_price": "abc"}, ["unit_price: not a number >= 0"]),
        (5, {"sale_id": "", "unit_price": "-1"},
         ["sale_id: empty", "unit_price: not a number >= 0"]),
    ],
)
BROKEN = RawFile(key="incoming/2026-03-02/broken.csv", etag="etag-x1", modified_at=at(2, 21),
                 status="rejected", reason="not a CSV: binary content")

# second round: a new version of store-a (drops S004 and S005, changes S001) and a new file
# restating S006 as canceled and adding a sale on 2026-03-01
STORE_A_V2 = RawFile(
    key="incoming/2026-03-01/store-a.csv", etag="etag-a2", modified_at=at(3, 9),
    rows=[
        sale("S001", day="2026-03-01", qty=3, price="100.00", discount="10"),
        STORE_A_V1.rows[1],
        STORE_A_V1.rows[2],
    ],
)
STORE_C = RawFile(
    key="incoming/2026-03-03/store-c.csv", etag="etag-c1", modified_at=at(3, 20),
    rows=[
        sale("S006", day="2026-03-02", qty=5, price="19.99", discount="0", unit_cost="12.00",
             status="Canceled", delivery_status="Canceled", delivery_date="", **BOOK,
             **STORE_NORTE),
        sale("S008", day="2026-03-01", qty=7, price="45.50", discount="15", unit_cost="20.00",
             **CHAIR),
        # the same book as P-002 under another id and spacing; the chair's id on a lamp
        sale("S010", day="2026-03-01", qty=2, price="19.99", discount="0", unit_cost="12.00",
             product_id="P-102", product_name=" Clean\t Code ", product_category="Books"),
        sale("S011", day="2026-03-02", qty=1, price="30.00", discount="0", unit_cost="10.00",
             product_id="P-003", product_name="Desk Lamp", product_category="Furniture"),
    ],
)
LATE = RawFile(key="incoming/2026-03-04/late.csv", etag="etag-l1", modified_at=at(4, 8),
               rows=[sale("S009", day="2026-03-04")])


# -- the scenario ----------------------------------------------------------------------------

@dataclass
class Snapshot:
    files: list[LoadedFile]
    marts: dict[str, dict[tuple[Any, ...], dict[str, Any]]]
    fct: dict[tuple[Any, ...], dict[str, Any]]
    dim: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)


@dataclass
class Scenario:
    first: Snapshot
    incremental: Snapshot
    full_refresh: Snapshot
    freshness_before_late: tuple[Any, ...]
    freshness_after_late: tuple[Any, ...]
    dq_files: list[tuple[Any, ...]]
    dq_rejected: list[tuple[Any, ...]]
    extras: dict[str, Any] = field(default_factory=dict)


def snapshot(conn: psycopg.Connection, files: list[LoadedFile]) -> Snapshot:
    marts = {name: read_mart(conn, name, key) for name, key in MART_KEYS.items()}
    fct = read_mart(conn, "fct_sales", FCT_KEY, drop=FCT_BOOKKEEPING)
    dim = read_mart(conn, "dim_products", ("product_name",))
    return Snapshot(list(files), marts, fct, dim)


@pytest.fixture(scope="module")
def dbt_db(base_settings) -> Iterator[Any]:
    """A database of this module's own (raw tables migrated, empty)."""
    from salespipe import db
    from salespipe.settings import load_settings

    name = f"t_dbt_{uuid.uuid4().hex[:8]}"
    settings = load_settings(POSTGRES_DB=name)
    db.ensure_database(settings, name)
    db.migrate(settings)
    yield settings
    with db.connect(settings, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def dbt_target(tmp_path_factory):
    return tmp_path_factory.mktemp("dbt")


# A prod build gets its build window from the ledger (the models re-resolve only what the new
# files touch); a build with no window (an analyst's, or a backfill too large to window)
# recomputes every mart whole. Both must give the same marts.
STRATEGIES = {"build window": (), "no window": ("--vars", "{new_files: null}")}


@pytest.fixture(scope="module", params=list(STRATEGIES))
def scenario(dbt_db, dbt_target, request) -> Scenario:
    strategy = STRATEGIES[request.param]
    with psycopg.connect(**dbt_db.pg_connect_kwargs(), autocommit=True) as conn:
        conn.execute("truncate raw.files, raw.sales, raw.sales_rejected restart identity cascade")
        conn.execute("drop schema if exists marts cascade")
        conn.execute("drop schema if exists staging cascade")

        files = [insert_raw(conn, f) for f in (STORE_A_V1, STORE_B, BROKEN)]
        run_dbt(dbt_db, "build", target=dbt_target)
        first = snapshot(conn, files)

        files += [insert_raw(conn, f) for f in (STORE_A_V2, STORE_C)]
        run_dbt(dbt_db, "build", *strategy, target=dbt_target)
        fct_sql = (dbt_target / "target" / "compiled" / "dbt_sales" / "models" / "marts"
                   / "fct_sales.sql").read_text()
        incremental = snapshot(conn, files)
        dq_files = conn.execute(
            "select file_id, source_key, status, reason, rows_total, rows_valid, rows_rejected"
            " from marts.dq_files order by file_id").fetchall()
        dq_rejected = conn.execute(
            "select source_key, reason, rejected_rows from marts.dq_rejected_rows"
            " order by source_key, reason").fetchall()

        run_dbt(dbt_db, "build", "--full-refresh", target=dbt_target)
        full = snapshot(conn, files)

        freshness_sql = ("select files_pending_dbt, is_dbt_behind, marts_built_at is not null,"
                         " last_file_loaded_at from marts.pipeline_freshness")
        before = conn.execute(freshness_sql).fetchone()
        late = insert_raw(conn, LATE)
        after = conn.execute(freshness_sql).fetchone()
        return Scenario(first, incremental, full, before, after, dq_files, dq_rejected,
                        extras={"late": late, "strategy": request.param, "fct_sql": fct_sql})


# -- the tests -------------------------------------------------------------------------------

def assert_marts_match(snap: Snapshot) -> None:
    want = expected_marts(snap.files)
    for name in MART_KEYS:
        assert snap.marts[name] == want[name], name


def test_first_build_kpis_match_python_and_exclude_canceled(scenario):
    snap = scenario.first
    assert_marts_match(snap)
    day1 = snap.marts["kpi_daily_sales"][(dt.date(2026, 3, 1),)]
    # S001 180.00 + S003 56.97 + S005 40.00; S002 (canceled) counts only as canceled
    assert (day1["total_sales"], day1["transactions"], day1["canceled_sales"]) == (
        Decimal("276.97"), 3, 1)
    assert day1["avg_ticket"] == Decimal("92.32")


def test_restatement_moves_sale_to_its_new_day(scenario):
    fct = scenario.first.fct
    assert fct[("S004",)]["sale_date"] == dt.date(2026, 3, 3)
    assert fct[("S004",)]["_source_key"] == STORE_B.key
    assert fct[("S004",)]["customer_rating"] is None
    assert fct[("S003",)]["customer_rating"] == 5
    assert (dt.date(2026, 3, 2), "Furniture") not in scenario.first.marts["kpi_category_sales"]


def test_incremental_build_applies_new_version_and_restatements(scenario):
    snap = scenario.incremental
    assert_marts_match(snap)
    # S005 lived only in the superseded version of store-a: gone. S004 was dropped from
    # store-a v2 but store-b (current) still has it. S006 restated as canceled.
    assert sorted(k[0] for k in snap.fct) == ["S001", "S002", "S003", "S004", "S006", "S007",
                                             "S008", "S010", "S011"]
    assert sorted(resolve_sales(snap.files)) == sorted(k[0] for k in snap.fct)
    assert snap.fct[("S001",)]["quantity_sold"] == 3
    assert snap.fct[("S006",)]["is_canceled"] is True


def test_product_kpis_group_by_normalized_name_with_ids_as_attributes(scenario):
    before = scenario.first.marts["kpi_product_sales"]
    assert before[(dt.date(2026, 3, 1), "Clean Code")]["product_id_count"] == 1
    after = scenario.incremental.marts["kpi_product_sales"][(dt.date(2026, 3, 1), "Clean Code")]
    # S003 (P-002, 3 x 19.99 - 5 %) and S010 (P-102, " Clean\t Code ", 2 x 19.99)
    assert (after["product_id"], after["product_id_count"], after["product_category"]) == (
        "P-002", 2, "Books")
    assert (after["units_sold"], after["total_sales"]) == (5, Decimal("96.95"))
    assert [k for k in scenario.incremental.marts["kpi_product_sales"]
            if "Clean" in k[1]] == [(dt.date(2026, 3, 1), "Clean Code")]


def test_dq_product_identity_counts_ids_with_several_names_and_names_with_several_ids(scenario):
    assert scenario.first.marts["dq_product_identity"] == {(): {
        "product_names": 3, "product_ids": 3, "ids_with_several_names": 0,
        "names_with_several_ids": 0}}
    # P-003 is Office Chair and Desk Lamp; Clean Code is P-002 and P-102
    assert scenario.incremental.marts["dq_product_identity"] == {(): {
        "product_names": 4, "product_ids": 4, "ids_with_several_names": 1,
        "names_with_several_ids": 1}}


def test_incremental_build_took_the_strategy_under_test(scenario):
    lateral = "cross join lateral" in scenario.extras["fct_sql"]
    assert lateral == (scenario.extras["strategy"] == "build window")


def test_full_refresh_gives_the_same_marts_as_incremental_builds(scenario):
    assert scenario.full_refresh.fct == scenario.incremental.fct
    assert scenario.full_refresh.marts == scenario.incremental.marts
    assert scenario.full_refresh.dim == scenario.incremental.dim


def test_dim_products_lists_exactly_the_products_of_current_sales(scenario):
    for snap in (scenario.first, scenario.incremental):
        assert set(snap.dim) == {(row["product_name"],) for row in snap.fct.values()}
        for (name,), row in snap.dim.items():
            latest = max((s for s in snap.fct.values() if s["product_name"] == name),
                         key=lambda s: (s["sale_date"], s["sale_id"]))
            assert (row["product_id"], row["product_category"]) == (
                latest["product_id"], latest["product_category"])


def test_dq_marts_list_rejected_files_and_rows_by_reason(scenario):
    assert [(r[1], r[2], r[3]) for r in scenario.dq_files] == [
        (STORE_A_V1.key, "loaded", None), (STORE_B.key, "loaded", None),
        (BROKEN.key, "rejected", "not a CSV: binary content"), (STORE_A_V2.key, "loaded", None),
        (STORE_C.key, "loaded", None)]
    assert scenario.dq_files[1][4:] == (5, 3, 2)
    assert scenario.dq_rejected == [(STORE_B.key, "sale_id: empty", 1),
                                    (STORE_B.key, "unit_price: not a number >= 0", 2)]


def test_pipeline_freshness_reports_files_dbt_has_not_seen(scenario):
    pending, behind, built, _ = scenario.freshness_before_late
    assert (pending, behind, built) == (0, False, True)
    pending, behind, _, last_loaded = scenario.freshness_after_late
    assert (pending, behind) == (1, True)
    assert last_loaded == scenario.extras["late"].loaded_at


def test_source_freshness_passes_on_fresh_data(scenario, dbt_db, dbt_target):
    out = run_dbt(dbt_db, "source", "freshness", target=dbt_target)
    assert "PASS" in out.stdout


def test_docs_lineage_reaches_the_dashboard_from_raw_sales(scenario, dbt_db, dbt_target):
    run_dbt(dbt_db, "docs", "generate", target=dbt_target)
    manifest = json.loads((dbt_target / "target" / "manifest.json").read_text())
    child_map = manifest["child_map"]
    seen, todo = set(), ["source.dbt_sales.raw.sales"]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(child_map.get(node, []))
    assert "exposure.dbt_sales.dashboard" in seen
    exposure = manifest["exposures"]["exposure.dbt_sales.dashboard"]
    # exactly the marts the dashboard's pages query
    queried = set()
    for module in ("queries.py", "pipeline_queries.py"):
        queried |= set(re.findall(r"(?:from|join)\s+marts\.(\w+)", (ROOT / "dashboard" / module).read_text()))
    assert sorted(n.split(".")[-1] for n in exposure["depends_on"]["nodes"]) == sorted(queried)
    assert (dbt_target / "target" / "catalog.json").exists()
