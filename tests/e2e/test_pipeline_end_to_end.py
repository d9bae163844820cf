"""The whole flow on real services: generate -> S3 -> watcher -> Kafka -> loader -> dbt -> mart."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_world

pytestmark = pytest.mark.e2e

SALESPIPE = str(Path(sys.executable).parent / "salespipe")
TIES = ("0.125", "0.135", "2.675", "1234.005", "-0.125", "0.115")


def cents(value: Decimal) -> Decimal:
    """PostgreSQL's `round(numeric, 2)`: ties go away from zero (Decimal's default is to even)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_daily(csv_bytes: bytes) -> dict[str, dict[str, Decimal | int]]:
    """KPIs computed straight from the CSV with the csv module (not from any project code)."""
    days: dict[str, dict[str, Decimal | int]] = defaultdict(
        lambda: {"total_sales": Decimal(0), "transactions": 0, "units_sold": 0}
    )
    for row in csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"))):
        if row["Payment Status"] == "Canceled":
            continue
        d = days[row["Sale Date"]]
        d["total_sales"] += Decimal(row["Total Value (with Discount)"])
        d["transactions"] += 1
        d["units_sold"] += int(row["Quantity Sold"])
    for d in days.values():
        d["avg_ticket"] = cents(d["total_sales"] / d["transactions"])
    return days


def test_oracle_rounds_ties_to_cents_like_postgresql(base_settings):
    with psycopg.connect(**base_settings.pg_connect_kwargs()) as conn:
        db_rounded = [conn.execute("select round(%s::numeric, 2)", (Decimal(t),)).fetchone()[0]
                      for t in TIES]
    assert [cents(Decimal(t)) for t in TIES] == db_rounded
    # ties really are ties: rounding half to even would give other cents for some of them
    assert [Decimal(t).quantize(Decimal("0.01")) for t in TIES] != db_rounded


def test_generated_file_flows_into_kpi_daily_sales(base_settings, tmp_path):
    w = make_world(base_settings, "e2e")
    s = w.settings
    out = tmp_path / "day.csv"
    subprocess.run([SALESPIPE, "generate", "--date", "2026-03-14", "--rows", "500", "--seed", "7",
                    "--out", str(out)], check=True, env=w.env)
    data = out.read_bytes()
    from salespipe import s3

    s3.client(s).put_object(Bucket=s.BUCKET_NAME, Key="incoming/sales_2026-03-14.csv", Body=data)

    from announcer.watcher import watch

    watch(s, once=True, topic=w.files_topic, state_path=tmp_path / "watch.json")

    from loader.consumer import Loader

    loader = Loader(s, topics=w.topics, group_id=f"g-{w.files_topic}")
    loader.run(exit_when_idle=3)

    want = expected_daily(data)
    with psycopg.connect(**s.pg_connect_kwargs()) as conn:
        rows = conn.execute(
            "select sale_date::text, total_sales, transactions, avg_ticket, units_sold "
            "from marts.kpi_daily_sales order by sale_date"
        ).fetchall()
    assert len(want) == 1
    assert rows == [
        (day, v["total_sales"], v["transactions"], v["avg_ticket"], v["units_sold"])
        for day, v in sorted(want.items())
    ]
