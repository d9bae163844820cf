"""The tests' own oracles, checked against real tables: an oracle that cannot see a defect
makes every test built on it pass on that defect."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from salespipe import db
from tests.integration.dbt_support import DuplicateGrain, read_mart

pytestmark = pytest.mark.integration

DAILY = ("create table marts.kpi_daily_sales (sale_date date, total_sales numeric(14,2), "
         "note text default 'bookkeeping')")


@pytest.fixture
def marts(world):
    with db.connect(world.settings, autocommit=True) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(DAILY)
        yield conn


def test_read_mart_returns_each_row_by_its_grain_without_bookkeeping(marts):
    marts.execute("insert into marts.kpi_daily_sales (sale_date, total_sales) values "
                  "('2026-03-01', 10.00), ('2026-03-02', 20.00)")
    assert read_mart(marts, "kpi_daily_sales", ("sale_date",), drop=("note",)) == {
        (dt.date(2026, 3, 1),): {"sale_date": dt.date(2026, 3, 1), "total_sales": Decimal("10.00")},
        (dt.date(2026, 3, 2),): {"sale_date": dt.date(2026, 3, 2), "total_sales": Decimal("20.00")},
    }


@pytest.mark.parametrize("second", ["10.00", "99.99"])
def test_read_mart_raises_on_two_rows_with_one_grain(marts, second):
    """Identical duplicates too: a dict keyed by grain would hide both kinds."""
    marts.execute("insert into marts.kpi_daily_sales (sale_date, total_sales) values "
                  "('2026-03-01', 10.00), ('2026-03-01', %s), ('2026-03-02', 20.00)",
                  (Decimal(second),))
    with pytest.raises(DuplicateGrain, match=r"marts.kpi_daily_sales: more than one row for "
                                             r"\{'sale_date': datetime.date\(2026, 3, 1\)\}"):
        read_mart(marts, "kpi_daily_sales", ("sale_date",))
