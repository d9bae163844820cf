"""kpi_sales_trend and the segment marts on the real PostgreSQL with the real `dbt build`:
every calendar day, zeros and a 7-day average across days without sales, "all" rows, checked
against values computed here (Decimal literals worked out by hand, and the Python model of
dbt_support) after an incremental build over a multi-day gap.

    2026-03-01  Sudeste/Online Electronics 180.00 (2 units) · Sul/Store Books 50.00 (1 unit)
                and a canceled sale
    2026-03-02  (no sales)
    2026-03-03  Sul/Online Books 30.00 (3 units)
    2026-03-04 … 03-08  (no sales)                       <- second file, second build:
    2026-03-09  Sudeste/Store Electronics 70.00 (1 unit)
    2026-03-10  only a canceled sale, in Norte/Phone
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from salespipe import db
from tests.conftest import make_world
from tests.integration.dbt_support import (
    ALL,
    MART_KEYS,
    RawFile,
    expected_marts,
    insert_raw,
    read_mart,
    run_dbt,
    sale,
)

pytestmark = pytest.mark.integration

BOOKS = {"product_id": "P-002", "product_name": "Novel", "product_category": "Books"}
FIRST = RawFile(key="incoming/first.csv", etag="f1", modified_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
                rows=[
                    sale("A1", day="2026-03-01"),
                    sale("A2", day="2026-03-01", qty=1, price="50.00", discount="0",
                         sales_region="Sul", sales_channel="Store", **BOOKS),
                    sale("A3", day="2026-03-01", status="Canceled"),
                    sale("A4", day="2026-03-03", qty=3, price="10.00", discount="0",
                         sales_region="Sul", **BOOKS),
                ])
SECOND = RawFile(key="incoming/second.csv", etag="s1",
                 modified_at=dt.datetime(2026, 3, 10, tzinfo=dt.UTC),
                 rows=[
                     sale("B1", day="2026-03-09", qty=1, price="70.00", discount="0",
                          sales_channel="Store"),
                     sale("B2", day="2026-03-10", status="Canceled", sales_region="Norte",
                          sales_channel="Phone"),
                 ])
SEGMENT_MARTS = ("kpi_sales_trend", "kpi_segment_trend", "kpi_segment_category_sales")


def d(day: int) -> dt.date:
    return dt.date(2026, 3, day)


@pytest.fixture(scope="module")
def built(base_settings, tmp_path_factory) -> dict[str, Any]:
    settings = make_world(base_settings, "segments").settings
    target = tmp_path_factory.mktemp("dbt")
    snapshots = {}
    with db.connect(settings, autocommit=True) as conn:
        files = [insert_raw(conn, FIRST)]
        run_dbt(settings, "build", target=target)
        snapshots["first"] = (list(files), {n: read_mart(conn, n, MART_KEYS[n])
                                            for n in (*SEGMENT_MARTS, "kpi_daily_sales",
                                                      "kpi_category_sales")})
        files.append(insert_raw(conn, SECOND))
        run_dbt(settings, "build", target=target)  # kpi_segment_sales: incremental
        snapshots["second"] = (list(files), {n: read_mart(conn, n, MART_KEYS[n])
                                             for n in (*SEGMENT_MARTS, "kpi_daily_sales",
                                                       "kpi_category_sales")})
    return snapshots


@pytest.mark.parametrize("build", ["first", "second"])
@pytest.mark.parametrize("mart", SEGMENT_MARTS)
def test_mart_equals_the_python_model_after_each_build(built, build, mart):
    files, marts = built[build]
    assert marts[mart] == expected_marts(files)[mart]


def test_trend_has_every_day_with_zeros_and_an_average_across_the_gap(built):
    trend = built["second"][1]["kpi_sales_trend"]
    got = [(k[0], r["total_sales"], r["transactions"], r["moving_avg_7d"], r["has_sales"])
           for k, r in sorted(trend.items())]
    avg_1, avg_3 = Decimal("32.86"), Decimal("37.14")  # 230.00 / 7; (230.00 + 30.00) / 7
    zero = Decimal("0.00")
    assert got == [
        (d(1), Decimal("230.00"), 2, avg_1, True),
        (d(2), zero, 0, avg_1, False),
        (d(3), Decimal("30.00"), 1, avg_3, True),
        *((d(n), zero, 0, avg_3, False) for n in range(4, 8)),  # Mar 1 still in the week
        (d(8), zero, 0, Decimal("4.29"), False),  # Mar 2-8: 30.00 / 7
        (d(9), Decimal("70.00"), 1, Decimal("14.29"), True),  # Mar 3-9: 100.00 / 7
        (d(10), zero, 0, Decimal("10.00"), False),  # canceled sales only; Mar 4-10: 70.00 / 7
    ]


def test_segment_trend_averages_each_segment_over_its_own_days(built):
    trend = built["second"][1]["kpi_segment_trend"]
    sul = {k[0]: r for k, r in trend.items() if k[1:] == ("Sul", ALL)}
    assert (sul[d(1)]["total_sales"], sul[d(1)]["avg_ticket"], sul[d(1)]["moving_avg_7d"]) == (
        Decimal("50.00"), Decimal("50.00"), Decimal("7.14"))
    assert (sul[d(2)]["avg_ticket"], sul[d(2)]["moving_avg_7d"], sul[d(2)]["has_sales"]) == (
        None, Decimal("7.14"), False)
    assert (sul[d(3)]["units_sold"], sul[d(3)]["avg_ticket"], sul[d(3)]["moving_avg_7d"]) == (
        3, Decimal("30.00"), Decimal("11.43"))  # (50.00 + 30.00) / 7
    assert [sul[d(n)]["moving_avg_7d"] for n in (8, 9, 10)] == [
        Decimal("4.29"), Decimal("4.29"), Decimal("0.00")]
    # a pair that first sold after the gap: zeros before, its own average after
    store = {k[0]: r for k, r in trend.items() if k[1:] == ("Sudeste", "Store")}
    assert [store[d(n)]["moving_avg_7d"] for n in (1, 8, 9, 10)] == [
        Decimal("0.00"), Decimal("0.00"), Decimal("10.00"), Decimal("10.00")]
    assert store[d(9)]["avg_ticket"] == Decimal("70.00")
    online = {k[0]: r for k, r in trend.items() if k[1:] == (ALL, "Online")}
    assert online[d(3)]["moving_avg_7d"] == Decimal("30.00")  # (180.00 + 30.00) / 7


def test_every_region_and_channel_choice_has_every_day(built):
    trend = built["second"][1]["kpi_segment_trend"]
    choices = {k[1:] for k in trend}
    # Norte and Phone sold only a canceled sale: no choice of their own
    assert choices == {(r, c) for r in (ALL, "Sudeste", "Sul") for c in (ALL, "Online", "Store")}
    for choice in choices:
        assert sorted(k[0] for k in trend if k[1:] == choice) == [d(n) for n in range(1, 11)]


def test_all_rows_equal_the_unfiltered_marts(built):
    marts = built["second"][1]
    everything = {k[0]: r for k, r in marts["kpi_segment_trend"].items() if k[1:] == (ALL, ALL)}
    for (day,), row in marts["kpi_sales_trend"].items():
        assert {c: everything[day][c] for c in row if c != "sale_date"} == {
            c: v for c, v in row.items() if c != "sale_date"}, day
    for (day,), row in marts["kpi_daily_sales"].items():
        assert (everything[day]["avg_ticket"], everything[day]["units_sold"]) == (
            row["avg_ticket"], row["units_sold"]), day
    categories = {(k[0], k[3]): {c: v for c, v in r.items()
                                 if c not in ("sales_region", "sales_channel")}
                  for k, r in marts["kpi_segment_category_sales"].items() if k[1:3] == (ALL, ALL)}
    assert categories == marts["kpi_category_sales"]
