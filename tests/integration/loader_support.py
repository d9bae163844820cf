"""Helpers for loader tests: write CSVs, put them in S3, announce them, read raw back."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

SNAKE = ["sale_date", "sale_id", "product_id", "product_name", "product_category",
         "quantity_sold", "unit_price", "discount", "total_value", "unit_cost", "total_cost",
         "gross_profit", "payment_method", "payment_status", "payment_date", "customer_id",
         "customer_name", "sales_channel", "sales_region", "sales_rep", "customer_rating",
         "shipping_cost", "delivery_status", "delivery_date"]
HUMAN = ["Sale Date", "Sale ID", "Product ID", "Product Name", "Product Category",
         "Quantity Sold", "Unit Price", "Discount (%)", "Total Value (with Discount)",
         "Unit Cost", "Total Cost", "Gross Profit", "Payment Method", "Payment Status",
         "Payment Date", "Customer ID", "Customer Name", "Sales Channel", "Sales Region",
         "Sales Representative", "Customer Rating", "Shipping Cost", "Delivery Status",
         "Delivery Date"]


def sale(sale_id: str, *, day: str = "2026-03-01", qty: int = 2, price: str = "100.00",
         discount: str = "10", unit_cost: str = "60.00", status: str = "Paid",
         **overrides: str) -> dict[str, str]:
    """A valid row whose amounts are computed here with Decimal (independently of the loader)."""
    q, p, d, c = Decimal(qty), Decimal(price), Decimal(discount or "0"), Decimal(unit_cost)
    # ties away from zero, as the original generator and PostgreSQL's round() do
    total = (q * p * (1 - d / 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    cost = (q * c).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    row = {
        "sale_date": day, "sale_id": sale_id, "product_id": "P-001", "product_name": "Notebook",
        "product_category": "Electronics", "quantity_sold": str(qty), "unit_price": price,
        "discount": discount, "total_value": str(total), "unit_cost": unit_cost,
        "total_cost": str(cost), "gross_profit": str(total - cost),
        "payment_method": "Pix", "payment_status": status,
        "payment_date": day if status == "Paid" else "", "customer_id": "C-1",
        "customer_name": "Ana Souza", "sales_channel": "Online", "sales_region": "Sudeste",
        "sales_rep": "João Lima", "customer_rating": "4 stars", "shipping_cost": "10.00",
        "delivery_status": "Delivered", "delivery_date": day,
    }
    row.update(overrides)
    return row


def to_csv(rows: list[dict[str, str]], *, human: bool = False, delimiter: str = ",",
           encoding: str = "utf-8", columns: list[str] | None = None) -> bytes:
    cols = columns or SNAKE
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([HUMAN[SNAKE.index(c)] if human and c in SNAKE else c for c in cols])
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
    return buf.getvalue().encode(encoding)


def put(world: Any, key: str, body: bytes) -> str:
    from salespipe import s3

    resp = s3.client(world.settings).put_object(Bucket=world.settings.BUCKET_NAME, Key=key,
                                                Body=body)
    return resp["ETag"].strip('"')


def announce(world: Any, key: str, etag: str, size: int, partition: int | None = None) -> None:
    """Announce on the partition the key hashes to, or on `partition` when given."""
    from confluent_kafka import Producer

    from announcer.announce import make_event
    from salespipe.kafka import producer_config

    p = Producer(producer_config(world.settings))
    where = {} if partition is None else {"partition": partition}
    p.produce(world.files_topic, key=key.encode(),
              value=json.dumps(make_event(world.settings.BUCKET_NAME, key, size, etag)).encode(),
              **where)
    assert p.flush(30) == 0


def put_and_announce(world: Any, key: str, body: bytes, partition: int | None = None) -> str:
    etag = put(world, key, body)
    announce(world, key, etag, len(body), partition)
    return etag


def run_loader(world: Any, *, idle: float = 2.0, run_dbt: bool = False) -> None:
    from loader.consumer import Loader

    Loader(world.settings, topics=world.topics, group_id=f"g-{world.files_topic}",
           run_dbt=run_dbt).run(exit_when_idle=idle)


def query(world: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(**world.settings.pg_connect_kwargs()) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def consume_all(world: Any, topic: str, timeout: float = 10.0) -> list[Any]:
    """Every message on a test topic (fresh group, from the beginning)."""
    import time
    import uuid

    from confluent_kafka import Consumer

    from salespipe.kafka import consumer_config

    c = Consumer(consumer_config(world.settings, f"reader-{uuid.uuid4().hex}"))
    c.subscribe([topic])
    out, deadline, quiet = [], time.monotonic() + timeout, 0
    while time.monotonic() < deadline and quiet < 3:
        msg = c.poll(1.0)
        if msg is None:
            quiet += 1 if out else 0
            continue
        if not msg.error():
            out.append(msg)
    c.close()
    return out
