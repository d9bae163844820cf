"""The reconciliation tests of dbt_sales: they pass on the marts dbt built, and each one
fails once its mart disagrees with fct_sales (a data test that cannot fail proves nothing)."""

from __future__ import annotations

import datetime as dt

import pytest

from salespipe import db
from tests.conftest import make_world
from tests.integration.dbt_support import RawFile, insert_raw, run_dbt, sale

pytestmark = pytest.mark.integration

RECONCILIATION_TESTS = {
    "kpi_daily_sales": "assert_kpi_daily_sales_reconciles_with_fct_sales",
    "kpi_category_sales": "assert_kpi_category_sales_reconciles_with_fct_sales",
    "kpi_product_sales": "assert_kpi_product_sales_reconciles_with_fct_sales",
    "kpi_segment_sales": "assert_kpi_segment_sales_reconciles_with_fct_sales",
    "kpi_product_segment_sales": "assert_kpi_product_segment_sales_reconciles_with_fct_sales",
}
DAY = "2026-03-01"


@pytest.fixture(scope="module")
def built(base_settings, tmp_path_factory):
    settings = make_world(base_settings, "reconcile").settings
    rows = [sale("R1", day=DAY), sale("R2", day=DAY, product_id="P-002", qty=5),
            sale("R3", day=DAY, status="Canceled"), sale("R4", day="2026-03-02")]
    with db.connect(settings, autocommit=True) as conn:
        insert_raw(conn, RawFile(key="incoming/r.csv", etag="r1",
                                 modified_at=dt.datetime.now(dt.UTC), rows=rows))
    target = tmp_path_factory.mktemp("dbt")
    run_dbt(settings, "build", target=target)
    return settings, target


@pytest.mark.parametrize("mart", list(RECONCILIATION_TESTS))
def test_reconciliation_test_fails_when_its_mart_disagrees(built, mart):
    settings, target = built
    test = RECONCILIATION_TESTS[mart]
    run_dbt(settings, "test", "--select", test, target=target)  # raises if it fails
    tamper = f"update marts.{mart} set total_sales = total_sales + %s where sale_date = %s"  # noqa: S608 - test constant
    with db.connect(settings, autocommit=True) as conn:
        assert conn.execute(tamper, (1, DAY)).rowcount >= 1
        try:
            with pytest.raises(AssertionError, match=r"FAIL \d+ " + test):
                run_dbt(settings, "test", "--select", test, target=target)
        finally:
            conn.execute(tamper, (-1, DAY))
    run_dbt(settings, "test", "--select", test, target=target)


def test_reconciliation_checks_a_day_that_lost_all_its_sales(base_settings, tmp_path):
    """A new object version moves the only sale of 2026-03-05 to the next day: the build's
    reconciliation must look at 2026-03-05 too, where no fct_sales row is left to point at it."""
    settings = make_world(base_settings, "reconcile_lost").settings
    test = RECONCILIATION_TESTS["kpi_daily_sales"]
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
        conn.execute(f"insert into marts.kpi_daily_sales (sale_date, {cols}, _batch_id)"  # noqa: S608 - test constant
                     f" select date '2026-03-05', {cols}, _batch_id from marts.kpi_daily_sales")
        with pytest.raises(AssertionError, match=r"FAIL \d+ " + test):
            run_dbt(settings, "test", "--select", test, target=tmp_path)
        conn.execute("delete from marts.kpi_daily_sales where sale_date = date '2026-03-05'")
    run_dbt(settings, "test", "--select", test, target=tmp_path)
