"""The reconciliation tests of dbt_sales: they pass on the marts dbt built, and each one fails
once its mart disagrees with what it reconciles against, for every measure it checks (a data
test that cannot fail proves nothing).

Each tamper hits its own grain row, so the failing-row count dbt reports proves that every
tampered measure was caught on its own: one measure left out of a test gives one row less.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pytest

from salespipe import db
from tests.conftest import make_world
from tests.integration.dbt_support import RawFile, insert_raw, run_dbt, sale

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DAYS = [f"2026-03-0{n}" for n in range(1, 8)]
GAP_DAYS, AFTER_GAP = ["2026-03-08", "2026-03-09"], "2026-03-10"  # no sales, then one sale
BOOK = {"product_id": "P-002", "product_name": "Novel", "product_category": "Books",
        "sales_region": "Sul", "sales_channel": "Store"}
E, B = ("P-001", "Electronics", "Sudeste", "Online"), ("P-002", "Books", "Sul", "Store")

# A tamper: (SQL on marts.<mart>, parameters, rows the test must then report).
Tamper = tuple[str, tuple[object, ...], int]


def bump(mart: str, column: str, where: str, *params: object) -> Tamper:
    return (f"update marts.{mart} set {column} = {column} + 1 where {where}", params, 1)  # noqa: S608 - test constants


def drop(mart: str, where: str, *params: object, rows: int = 1) -> Tamper:
    return (f"delete from marts.{mart} where {where}", params, rows)  # noqa: S608 - test constants


def flip(mart: str, where: str, *params: object) -> Tamper:
    return (f"update marts.{mart} set has_sales = not has_sales where {where}", params, 1)  # noqa: S608 - test constants


SEG = "sale_date = %s and sales_region = %s and sales_channel = %s"
ALL = ""  # the segment marts' "all regions" / "all channels" value
TAMPERS: dict[str, tuple[str, list[Tamper]]] = {
    "kpi_daily_sales": ("assert_kpi_daily_sales_reconciles_with_fct_sales", [
        *(bump("kpi_daily_sales", m, "sale_date = %s", DAYS[i]) for i, m in enumerate(
            ("total_sales", "transactions", "units_sold", "gross_profit", "canceled_sales",
             "avg_ticket"))),
        drop("kpi_daily_sales", "sale_date = %s", DAYS[6]),
    ]),
    "kpi_category_sales": ("assert_kpi_category_sales_reconciles_with_fct_sales", [
        *(bump("kpi_category_sales", m, "sale_date = %s and product_category = %s", DAYS[i],
               E[1]) for i, m in enumerate(("total_sales", "units_sold", "transactions"))),
        bump("kpi_category_sales", "share_of_day", "sale_date = %s and product_category = %s",
             DAYS[3], E[1]),
        # the missing row, and its day's shares no longer sum to 1
        drop("kpi_category_sales", "sale_date = %s and product_category = %s", DAYS[4], B[1],
             rows=2),
    ]),
    "kpi_product_sales": ("assert_kpi_product_sales_reconciles_with_fct_sales", [
        *(bump("kpi_product_sales", m, "sale_date = %s and product_id = %s", DAYS[i], E[0])
          for i, m in enumerate(("total_sales", "units_sold"))),
        ("update marts.kpi_product_sales set units_rank = 3 - units_rank where sale_date = %s",
         (DAYS[2],), 1),  # rank 1 moves to the product that sold fewer units
        drop("kpi_product_sales", "sale_date = %s and product_id = %s", DAYS[3], E[0]),
    ]),
    "kpi_segment_sales": ("assert_kpi_segment_sales_reconciles_with_fct_sales", [
        *(bump("kpi_segment_sales", m, SEG + " and product_category = %s", DAYS[i], E[2], E[3],
               E[1]) for i, m in enumerate(("total_sales", "transactions", "units_sold",
                                             "gross_profit"))),
        drop("kpi_segment_sales", SEG + " and product_category = %s", DAYS[4], B[2], B[3], B[1]),
    ]),
    "kpi_product_segment_sales": (
        "assert_kpi_product_segment_sales_reconciles_with_fct_sales", [
            *(bump("kpi_product_segment_sales", m, SEG + " and product_id = %s", DAYS[i], E[2],
                   E[3], E[0]) for i, m in enumerate(("total_sales", "units_sold"))),
            drop("kpi_product_segment_sales", SEG + " and product_id = %s", DAYS[2], B[2], B[3],
                 B[0]),
        ]),
    # One row of counts: inconsistent with each other, and (in a test without a build window,
    # which recounts over all of fct_sales) different from fct_sales: two failing rows.
    "dq_product_identity": ("assert_dq_product_identity_reconciles_with_fct_sales", [
        ("update marts.dq_product_identity set ids_with_several_names = product_ids + 1",
         (), 2),
    ]),
    "dim_products": ("assert_dim_products_covers_fct_sales", [
        drop("dim_products", "product_name = %s", BOOK["product_name"]),
    ]),
    "kpi_sales_trend": ("assert_kpi_sales_trend_reconciles_with_kpi_daily_sales", [
        *(bump("kpi_sales_trend", m, "sale_date = %s", DAYS[i])
          for i, m in enumerate(("total_sales", "transactions"))),
        drop("kpi_sales_trend", "sale_date = %s", DAYS[2]),
        bump("kpi_sales_trend", "moving_avg_7d", "sale_date = %s", DAYS[3]),
        flip("kpi_sales_trend", "sale_date = %s", DAYS[4]),
        bump("kpi_sales_trend", "total_sales", "sale_date = %s", GAP_DAYS[0]),
    ]),
    "kpi_segment_trend": ("assert_kpi_segment_trend_reconciles_with_kpi_segment_sales", [
        bump("kpi_segment_trend", "total_sales", SEG, DAYS[0], E[2], E[3]),
        bump("kpi_segment_trend", "transactions", SEG, DAYS[1], ALL, ALL),
        bump("kpi_segment_trend", "units_sold", SEG, DAYS[2], E[2], ALL),
        bump("kpi_segment_trend", "avg_ticket", SEG, DAYS[3], ALL, E[3]),
        bump("kpi_segment_trend", "moving_avg_7d", SEG, DAYS[4], B[2], B[3]),
        flip("kpi_segment_trend", SEG, DAYS[5], B[2], ALL),
        bump("kpi_segment_trend", "total_sales", SEG, GAP_DAYS[1], ALL, ALL),
        # the missing row, and its segment no longer has every day
        drop("kpi_segment_trend", SEG, DAYS[6], B[2], B[3], rows=2),
    ]),
    "kpi_segment_category_sales": ("assert_kpi_segment_category_sales_reconciles_with_fct_sales", [
        bump("kpi_segment_category_sales", "total_sales", SEG + " and product_category = %s",
             DAYS[0], E[2], E[3], E[1]),
        bump("kpi_segment_category_sales", "units_sold", SEG + " and product_category = %s",
             DAYS[1], ALL, ALL, E[1]),
        bump("kpi_segment_category_sales", "transactions", SEG + " and product_category = %s",
             DAYS[2], E[2], ALL, E[1]),
        bump("kpi_segment_category_sales", "share_of_day", SEG + " and product_category = %s",
             DAYS[3], ALL, ALL, B[1]),
        drop("kpi_segment_category_sales", SEG + " and product_category = %s", DAYS[4], ALL,
             B[3], B[1]),
    ]),
}


def day_rows(day: str) -> list[dict[str, str]]:
    """Per day: one Electronics sale, one Books sale (more units: rank 1), one canceled."""
    n = day[-1]
    return [sale(f"E{n}", day=day), sale(f"B{n}", day=day, qty=5, **BOOK),
            sale(f"C{n}", day=day, status="Canceled")]


@pytest.fixture(scope="module")
def built(base_settings, tmp_path_factory):
    settings = make_world(base_settings, "reconcile").settings
    with db.connect(settings, autocommit=True) as conn:
        insert_raw(conn, RawFile(key="incoming/r.csv", etag="r1",
                                 modified_at=dt.datetime.now(dt.UTC),
                                 rows=[r for d in DAYS for r in day_rows(d)]))
        insert_raw(conn, RawFile(key="incoming/gap.csv", etag="g1",
                                 modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale("G1", day=AFTER_GAP)]))
    target = tmp_path_factory.mktemp("dbt")
    run_dbt(settings, "build", target=target)  # raises if any data test fails
    return settings, target


def test_every_singular_test_of_the_project_is_tampered_here():
    singular = {p.stem for p in (ROOT / "dbt_sales" / "tests").glob("*.sql")}
    assert singular == {test for test, _ in TAMPERS.values()}


@pytest.mark.parametrize("mart", list(TAMPERS))
def test_reconciliation_test_reports_every_tampered_measure_of_its_mart(built, mart):
    settings, target = built
    test, tampers = TAMPERS[mart]
    with db.connect(settings, autocommit=True) as conn:
        conn.execute(f"create table public.saved as select * from marts.{mart}")  # noqa: S608 - test constant
        try:
            for sql, params, _rows in tampers:
                assert conn.execute(sql, params).rowcount >= 1, sql
            failing = sum(rows for *_, rows in tampers)
            with pytest.raises(AssertionError, match=rf"FAIL {failing} {test}\b"):
                run_dbt(settings, "test", "--select", test, target=target)
        finally:
            conn.execute(f"truncate marts.{mart}")  # noqa: S608 - test constant
            conn.execute(f"insert into marts.{mart} select * from public.saved")  # noqa: S608
            conn.execute("drop table public.saved")
    run_dbt(settings, "test", "--select", test, target=target)  # passes again once restored


def readme_dbt_test_args() -> list[str]:
    """The `dbt test --vars …` line of the README, without the project/profile options."""
    lines = [ln for ln in (ROOT / "README.md").read_text().splitlines()
             if re.match(r"dbt test .*--vars ", ln)]
    assert len(lines) == 1, lines
    args = shlex.split(lines[0].split("#")[0])[1:]
    for option in ("--project-dir", "--profiles-dir"):
        if option in args:
            i = args.index(option)
            del args[i:i + 2]
    return args


def passed(proc) -> int:
    return int(re.search(r"Done\. PASS=(\d+)", proc.stdout).group(1))


def test_readme_full_check_reaches_every_day_a_windowed_build_skips(base_settings, tmp_path):
    args = readme_dbt_test_args()
    assert args[0] == "test" and "full_history_tests: true" in args[-1]
    settings = make_world(base_settings, "readme_check").settings
    with db.connect(settings, autocommit=True) as conn:
        for n, day in enumerate(DAYS[:2]):
            insert_raw(conn, RawFile(key=f"incoming/{day}.csv", etag=f"e{n}",
                                     modified_at=dt.datetime.now(dt.UTC), rows=day_rows(day)))
            run_dbt(settings, "build", target=tmp_path)
        full, plain = run_dbt(settings, *args, target=tmp_path), run_dbt(settings, "test",
                                                                         target=tmp_path)
        assert passed(full) > passed(plain)  # the full-history tests ran too
        # A wrong mart row on a day outside the next build's window: that build's own
        # reconciliation reads only its window and passes; a plain `dbt test` (no window)
        # reads every day and sees it (units_sold: the trend test compares totals only).
        tamper = "update marts.kpi_daily_sales set units_sold = units_sold + %s where sale_date = %s"
        conn.execute(tamper, (1, DAYS[0]))
        insert_raw(conn, RawFile(key=f"incoming/{DAYS[2]}.csv", etag="e2",
                                 modified_at=dt.datetime.now(dt.UTC), rows=day_rows(DAYS[2])))
        run_dbt(settings, "build", target=tmp_path)
        for check in (("test",), args):
            with pytest.raises(AssertionError) as failed:
                run_dbt(settings, *check, target=tmp_path)
            summary = str(failed.value)  # dbt's last lines: the failures, then the totals
            assert re.search(r"Failure in test assert_kpi_daily_sales_reconciles_with_fct_sales "
                             r".*\n.*Got 1 result", summary), summary
            assert " ERROR=1 " in summary, summary  # that test only
        conn.execute(tamper, (-1, DAYS[0]))
    run_dbt(settings, *args, target=tmp_path)


def test_reconciliation_checks_a_day_that_lost_all_its_sales(base_settings, tmp_path):
    """A new object version moves the only sale of 2026-03-05 to the next day: the build's
    reconciliation must look at 2026-03-05 too, where no fct_sales row is left to point at it."""
    settings = make_world(base_settings, "reconcile_lost").settings
    test = TAMPERS["kpi_daily_sales"][0]
    with db.connect(settings, autocommit=True) as conn:
        insert_raw(conn, RawFile(key="incoming/m.csv", etag="m1", modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale("M1", day="2026-03-05")]))
        run_dbt(settings, "build", target=tmp_path)
        insert_raw(conn, RawFile(key="incoming/m.csv", etag="m2", modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale("M1", day="2026-03-06")]))
        run_dbt(settings, "build", target=tmp_path)
        days = [r[0] for r in conn.execute("select sale_date::text from marts.kpi_daily_sales")]
        assert days == ["2026-03-06"]
        cols = "total_sales, transactions, avg_ticket, units_sold, gross_profit, canceled_sales"
        conn.execute(f"insert into marts.kpi_daily_sales (sale_date, {cols})"  # noqa: S608 - test constant
                     f" select date '2026-03-05', {cols} from marts.kpi_daily_sales")
        with pytest.raises(AssertionError, match=r"FAIL \d+ " + test):
            run_dbt(settings, "test", "--select", test, target=tmp_path)
        conn.execute("delete from marts.kpi_daily_sales where sale_date = date '2026-03-05'")
    run_dbt(settings, "test", "--select", test, target=tmp_path)


@pytest.mark.parametrize(("name", "overrides", "constraint"), [
    ("negative_quantity", {"qty": -2}, "quantity_sold_check"),
    ("unknown_status", {"status": "Refunded"}, "payment_status_check"),
    ("wrong_total", {"total_value": "999.00"}, "fct_sales_money_consistent"),
])
def test_fct_sales_constraints_stop_a_build_that_would_write_a_bad_row(
        base_settings, tmp_path, name, overrides, constraint):
    """fct_sales' row rules are PostgreSQL constraints: a raw row that breaks one (written
    around the loader, which would have quarantined it) fails the build, naming the rule."""
    settings = make_world(base_settings, f"constraint_{name}").settings
    with db.connect(settings, autocommit=True) as conn:
        insert_raw(conn, RawFile(key="incoming/ok.csv", etag="ok",
                                 modified_at=dt.datetime.now(dt.UTC), rows=day_rows(DAYS[0])))
        run_dbt(settings, "build", target=tmp_path)  # the table and its constraints exist
        insert_raw(conn, RawFile(key="incoming/bad.csv", etag="bad",
                                 modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale("X1", day=DAYS[1], **overrides)]))
        with pytest.raises(AssertionError, match=constraint):
            run_dbt(settings, "build", target=tmp_path)
        assert conn.execute("select count(*) from marts.fct_sales where sale_id = 'X1'"
                            ).fetchone() == (0,)
