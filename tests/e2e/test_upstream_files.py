"""Files shaped like the original project's generator, through the whole flow on the real
services (generate -> S3 -> watcher -> Kafka -> loader -> dbt), against KPIs this module
computes itself from the CSV files with Decimal.

Those files carry a new product id on every row and draw the category independently of the
name: the product marts must still hold one row per product name, and the data-quality mart
must count the disagreeing ids and names. Our own generator's files, by contrast, keep one
id per name: one row per product per day, and nothing to report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import World, make_world
from tests.integration.dbt_support import run_dbt

pytestmark = pytest.mark.e2e

SALESPIPE = str(Path(sys.executable).parent / "salespipe")
CENT, BASIS_POINT = Decimal("0.01"), Decimal("0.0001")
# (day, seed): two rounds of loads; 2026-03-02 gets a second file in round two and
# 2026-03-03 has no file, so the 7-day average spans a day without sales.
ROUND_ONE = [("2026-03-01", 101), ("2026-03-02", 102)]
ROUND_TWO = [("2026-03-02", 103), ("2026-03-04", 104), ("2026-03-05", 105)]

Row = dict[str, str]
Mart = dict[tuple[Any, ...], dict[str, Any]]


# -- the expected marts, from the CSV text only ---------------------------------------------

def rounded(value: Decimal, step: Decimal = CENT) -> Decimal:
    """PostgreSQL's round(): half away from zero (ROUND_HALF_UP in decimal's terms)."""
    return value.quantize(step, rounding=ROUND_HALF_UP)


def name_of(row: Row) -> str:
    """The product identity rule: whitespace runs collapsed to one space, ends trimmed."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", row["Product Name"]).strip(" ")


def money(rows: Iterable[Row], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal(0))


def grouped(rows: Iterable[Row], key: Callable[[Row], tuple[Any, ...]]) -> dict[tuple[Any, ...], list[Row]]:
    out: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for r in rows:
        out[key(r)].append(r)
    return out


def day_of(row: Row) -> dt.date:
    return dt.date.fromisoformat(row["Sale Date"])


def product_attributes(rows: list[Row]) -> dict[str, Any]:
    categories = Counter(r["Product Category"] for r in rows)
    top = max(categories.values())
    return {
        "product_id": min(r["Product ID"] for r in rows),
        "product_id_count": len({r["Product ID"] for r in rows}),
        "product_category": min(c for c, n in categories.items() if n == top),
        "total_sales": money(rows, "Total Value (with Discount)"),
        "units_sold": sum(int(r["Quantity Sold"]) for r in rows),
    }


def expected_marts(rows: list[Row]) -> dict[str, Mart]:
    counted = [r for r in rows if r["Payment Status"] != "Canceled"]
    total = "Total Value (with Discount)"

    daily: Mart = {}
    for (d,), day_rows in grouped(rows, lambda r: (day_of(r),)).items():
        ok = [r for r in day_rows if r["Payment Status"] != "Canceled"]
        daily[(d,)] = {
            "sale_date": d,
            "total_sales": money(ok, total),
            "transactions": len(ok),
            "avg_ticket": rounded(money(ok, total) / len(ok)) if ok else None,
            "units_sold": sum(int(r["Quantity Sold"]) for r in ok),
            "gross_profit": money(ok, "Gross Profit"),
            "canceled_sales": len(day_rows) - len(ok),
        }

    category: Mart = {}
    for (d, cat), group in grouped(counted, lambda r: (day_of(r), r["Product Category"])).items():
        category[(d, cat)] = {
            "sale_date": d, "product_category": cat, "total_sales": money(group, total),
            "units_sold": sum(int(r["Quantity Sold"]) for r in group),
            "transactions": len(group),
            "share_of_day": rounded(money(group, total) / daily[(d,)]["total_sales"], BASIS_POINT),
        }

    product: Mart = {}
    for (d, name), group in grouped(counted, lambda r: (day_of(r), name_of(r))).items():
        product[(d, name)] = {"sale_date": d, "product_name": name, **product_attributes(group)}
    for (d, _name), row in product.items():
        units = sorted({v["units_sold"] for k, v in product.items() if k[0] == d}, reverse=True)
        row["units_rank"] = units.index(row["units_sold"]) + 1

    product_segment: Mart = {}
    for (d, region, channel, name), group in grouped(
        counted, lambda r: (day_of(r), r["Sales Region"], r["Sales Channel"], name_of(r))
    ).items():
        product_segment[(d, region, channel, name)] = {
            "sale_date": d, "sales_region": region, "sales_channel": channel,
            "product_name": name, **product_attributes(group),
        }

    segment: Mart = {}
    for (d, region, channel, cat), group in grouped(
        counted, lambda r: (day_of(r), r["Sales Region"], r["Sales Channel"], r["Product Category"])
    ).items():
        segment[(d, region, channel, cat)] = {
            "sale_date": d, "sales_region": region, "sales_channel": channel,
            "product_category": cat, "total_sales": money(group, total),
            "transactions": len(group),
            "units_sold": sum(int(r["Quantity Sold"]) for r in group),
            "gross_profit": money(group, "Gross Profit"),
        }

    trend: Mart = {}  # every calendar day from the first to the last day
    first, last = min(daily)[0], max(daily)[0]
    for n in range((last - first).days + 1):
        d = first + dt.timedelta(days=n)
        row = daily.get((d,), {"total_sales": Decimal("0.00"), "transactions": 0})
        window = [daily.get((d - dt.timedelta(days=i),), {}).get("total_sales", Decimal(0))
                  for i in range(7)]
        trend[(d,)] = {"sale_date": d, "total_sales": row["total_sales"],
                       "transactions": row["transactions"],
                       "moving_avg_7d": rounded(sum(window, Decimal(0)) / 7),
                       "has_sales": row["transactions"] > 0}

    # Every region x channel choice ('' = all) on every day of the trend; categories that sold.
    segment_trend: Mart = {}
    segment_category: Mart = {}
    for region in ["", *{r["Sales Region"] for r in counted}]:
        for channel in ["", *{r["Sales Channel"] for r in counted}]:
            chosen = [r for r in counted if region in ("", r["Sales Region"])
                      and channel in ("", r["Sales Channel"])]
            by_day = grouped(chosen, lambda r: (day_of(r),))
            totals = {d: money(group, total) for (d,), group in by_day.items()}
            for (d,) in trend:
                group = by_day.get((d,), [])
                window = [totals.get(d - dt.timedelta(days=i), Decimal(0)) for i in range(7)]
                segment_trend[(d, region, channel)] = {
                    "sale_date": d, "sales_region": region, "sales_channel": channel,
                    "total_sales": money(group, total), "transactions": len(group),
                    "avg_ticket": rounded(money(group, total) / len(group)) if group else None,
                    "units_sold": sum(int(r["Quantity Sold"]) for r in group),
                    "moving_avg_7d": rounded(sum(window, Decimal(0)) / 7),
                    "has_sales": bool(group),
                }
            for (d, cat), group in grouped(chosen, lambda r: (day_of(r), r["Product Category"])).items():
                segment_category[(d, region, channel, cat)] = {
                    "sale_date": d, "sales_region": region, "sales_channel": channel,
                    "product_category": cat, "total_sales": money(group, total),
                    "units_sold": sum(int(r["Quantity Sold"]) for r in group),
                    "transactions": len(group),
                    "share_of_day": rounded(money(group, total) / totals[d], BASIS_POINT),
                }

    return {
        "kpi_daily_sales": daily,
        "kpi_category_sales": category,
        "kpi_product_sales": product,
        "kpi_product_segment_sales": product_segment,
        "kpi_segment_sales": segment,
        "kpi_sales_trend": trend,
        "kpi_segment_trend": segment_trend,
        "kpi_segment_category_sales": segment_category,
    }


def expected_identity(rows: list[Row]) -> dict[str, int]:
    pairs = {(r["Product ID"], name_of(r)) for r in rows}
    names_per_id = Counter(pid for pid, _ in pairs)
    ids_per_name = Counter(name for _, name in pairs)
    return {
        "product_names": len(ids_per_name),
        "product_ids": len(names_per_id),
        "ids_with_several_names": sum(n > 1 for n in names_per_id.values()),
        "names_with_several_ids": sum(n > 1 for n in ids_per_name.values()),
    }


MART_KEYS: dict[str, tuple[str, ...]] = {
    "kpi_daily_sales": ("sale_date",),
    "kpi_category_sales": ("sale_date", "product_category"),
    "kpi_product_sales": ("sale_date", "product_name"),
    "kpi_product_segment_sales": ("sale_date", "sales_region", "sales_channel", "product_name"),
    "kpi_segment_sales": ("sale_date", "sales_region", "sales_channel", "product_category"),
    "kpi_sales_trend": ("sale_date",),
    "kpi_segment_trend": ("sale_date", "sales_region", "sales_channel"),
    "kpi_segment_category_sales": ("sale_date", "sales_region", "sales_channel",
                                   "product_category"),
}


# -- the flow -------------------------------------------------------------------------------

def generate(world: World, out: Path, day: str, seed: int, *extra: str) -> bytes:
    subprocess.run([SALESPIPE, "generate", "--date", day, "--seed", str(seed), "--out", str(out),  # noqa: S603
                    *extra], check=True, env=world.env, capture_output=True)
    return out.read_bytes()


def deliver(world: World, tmp_path: Path, files: dict[str, bytes]) -> None:
    """Put the files in the world's bucket; the watcher announces them, the loader (with its
    dbt builds) takes them."""
    from announcer.watcher import watch
    from loader.consumer import Loader
    from salespipe import s3

    client = s3.client(world.settings)
    for key, data in files.items():
        client.put_object(Bucket=world.settings.BUCKET_NAME, Key=key, Body=data)
    watch(world.settings, once=True, topic=world.files_topic, state_path=tmp_path / "watch.json")
    Loader(world.settings, topics=world.topics, group_id=f"g-{world.files_topic}").run(
        exit_when_idle=3)


def read_mart(world: World, name: str, key: tuple[str, ...]) -> Mart:
    with psycopg.connect(**world.settings.pg_connect_kwargs()) as conn:
        cur = conn.execute(f"select * from marts.{name}")  # noqa: S608 - test constant
        names = [d.name for d in cur.description or []]
        rows = [dict(zip(names, rec, strict=True)) for rec in cur.fetchall()]
    for row in rows:
        row.pop("_batch_id", None)
    mart = {tuple(row[k] for k in key): row for row in rows}
    assert len(mart) == len(rows), f"{name}: two rows share a value of its grain"
    return mart


def parse(data: bytes) -> list[Row]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def upstream_world(base_settings, tmp_path_factory) -> tuple[World, list[Row], Path]:
    world = make_world(base_settings, "upstream")
    tmp = tmp_path_factory.mktemp("upstream")
    rows: list[Row] = []
    for batch in (ROUND_ONE, ROUND_TWO):
        files = {}
        for day, seed in batch:
            data = generate(world, tmp / f"{seed}.csv", day, seed, "--style", "upstream")
            files[f"incoming/upstream/{day}/sales_{seed}.csv"] = data
            rows += parse(data)
        deliver(world, tmp, files)
    return world, rows, tmp


def test_upstream_files_are_loaded_without_a_rejected_row(upstream_world) -> None:
    world, rows, _ = upstream_world
    with psycopg.connect(**world.settings.pg_connect_kwargs()) as conn:
        files = conn.execute("select status, rows_valid, rows_rejected from raw.files").fetchall()
    assert len(files) == len(ROUND_ONE) + len(ROUND_TWO)
    assert {status for status, _, _ in files} == {"loaded"}
    assert sum(valid for _, valid, _ in files) == len(rows)
    assert sum(rejected for _, _, rejected in files) == 0


@pytest.mark.parametrize("mart", list(MART_KEYS))
def test_every_kpi_mart_equals_decimal_kpis_of_the_upstream_csv_files(upstream_world, mart) -> None:
    world, rows, _ = upstream_world
    want = expected_marts(rows)[mart]
    got = read_mart(world, mart, MART_KEYS[mart])
    assert sorted(got) == sorted(want)
    for key, row in want.items():
        assert got[key] == row, (mart, key)


def test_upstream_products_are_one_row_per_name_not_per_random_id(upstream_world) -> None:
    world, rows, _ = upstream_world
    products = read_mart(world, "kpi_product_sales", MART_KEYS["kpi_product_sales"])
    names = {name_of(r) for r in rows}
    days = {day_of(r) for r in rows}
    assert {name for _, name in products} == names
    assert len(products) <= len(names) * len(days)
    # the ids really were random: most product rows stand for several ids
    assert sum(p["product_id_count"] > 1 for p in products.values()) > len(products) / 2


def test_dq_product_identity_counts_the_upstream_disagreements(upstream_world) -> None:
    world, rows, tmp = upstream_world
    want = expected_identity(rows)
    assert want["names_with_several_ids"] > 0
    assert read_mart(world, "dq_product_identity", ()) == {(): want}
    # and the whole-table check of the mart against fct_sales passes too
    run_dbt(world.settings, "test", "--select", "dq_product_identity", target=tmp)


def test_own_generator_gives_one_row_per_product_per_day_and_nothing_to_report(
    base_settings, tmp_path
) -> None:
    world = make_world(base_settings, "own_style")
    files = {}
    rows: list[Row] = []
    for day, seed in (("2026-03-01", 7), ("2026-03-02", 8)):
        data = generate(world, tmp_path / f"{seed}.csv", day, seed, "--rows", "3000")
        files[f"incoming/sales_{day}.csv"] = data
        rows += parse(data)
    deliver(world, tmp_path, files)

    products = read_mart(world, "kpi_product_sales", MART_KEYS["kpi_product_sales"])
    counted = [r for r in rows if r["Payment Status"] != "Canceled"]
    assert sorted(products) == sorted({(day_of(r), r["Product Name"]) for r in counted})
    ids_per_day = {(day_of(r), r["Product ID"]) for r in counted}
    assert len(products) == len(ids_per_day)
    assert {p["product_id_count"] for p in products.values()} == {1}
    for (d, name), p in products.items():
        assert {r["Product ID"] for r in counted if day_of(r) == d and r["Product Name"] == name} == {
            p["product_id"]}
    identity = read_mart(world, "dq_product_identity", ())[()]
    assert identity["ids_with_several_names"] == 0
    assert identity["names_with_several_ids"] == 0
    assert identity["product_names"] == identity["product_ids"] == len({r["Product ID"] for r in rows})
