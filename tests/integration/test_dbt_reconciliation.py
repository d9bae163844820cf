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
