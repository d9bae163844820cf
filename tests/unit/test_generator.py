"""The generator's files satisfy every rule the loader and dbt rely on, byte for byte reproducibly.

Expected values are recomputed here with Decimal from the printed fields, never taken from
`generator.core`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from generator import catalog, core
from generator.cli import run_generate, upload_key
from salespipe.settings import Settings

EXPECTED_HEADER = [
    "Sale Date", "Sale ID", "Product ID", "Product Name", "Product Category", "Quantity Sold",
    "Unit Price", "Discount (%)", "Total Value (with Discount)", "Unit Cost", "Total Cost",
    "Gross Profit", "Payment Method", "Payment Status", "Payment Date", "Customer ID",
    "Customer Name", "Sales Channel", "Sales Region", "Sales Representative", "Customer Rating",
    "Shipping Cost", "Delivery Status", "Delivery Date",
]  # fmt: skip
DAY = dt.date(2026, 3, 14)
ROWS = 3_000
MONEY = re.compile(r"^-?\d+\.\d{2}$")
CENT = Decimal("0.01")


def csv_bytes(day: dt.date = DAY, rows: int = ROWS, seed: int = 7) -> bytes:
    buf = io.BytesIO()
    core.write_csv(buf, day, rows, seed)
    return buf.getvalue()


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return parse(csv_bytes())


def money(text: str) -> Decimal:
    assert MONEY.match(text), f"not a 2-decimal amount: {text!r}"
    return Decimal(text)


def test_header_is_the_original_24_columns_in_order() -> None:
    first_line = csv_bytes(rows=1).split(b"\n", 1)[0].decode("utf-8")
    assert first_line == ",".join(EXPECTED_HEADER)
    assert list(core.HEADER) == EXPECTED_HEADER


def test_file_is_utf8_without_bom_with_lf_endings_and_minimal_quoting() -> None:
    data = csv_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert data.endswith(b"\n")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(parsed) == ROWS + 1
    assert all(len(r) == 24 for r in parsed)
    rewritten = io.StringIO()
    csv.writer(rewritten, lineterminator="\n").writerows(parsed)
    assert rewritten.getvalue().encode("utf-8") == data


def test_amounts_satisfy_the_loader_arithmetic_exactly(rows: list[dict[str, str]]) -> None:
    for r in rows:
        q = int(r["Quantity Sold"])
        price, cost = money(r["Unit Price"]), money(r["Unit Cost"])
        discount = int(r["Discount (%)"])
        total, total_cost = money(r["Total Value (with Discount)"]), money(r["Total Cost"])
        expected_total = (q * price * (1 - Decimal(discount) / 100)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        assert total == expected_total, r
        assert total_cost == (q * cost).quantize(CENT), r
        assert money(r["Gross Profit"]) == total - total_cost, r


def test_amounts_are_within_their_ranges(rows: list[dict[str, str]]) -> None:
    for r in rows:
        price, cost = money(r["Unit Price"]), money(r["Unit Cost"])
        assert 1 <= int(r["Quantity Sold"]) <= 10
        assert Decimal("50.00") <= price <= Decimal("500.00")
        assert r["Discount (%)"] in {"0", "5", "10", "15", "20"}
        assert price * Decimal("0.5") <= cost <= price * Decimal("0.8"), r
        shipping = money(r["Shipping Cost"])
        assert Decimal("0.00") <= shipping <= Decimal("50.00")
        if r["Sales Channel"] == "Store":
            assert shipping == 0


def test_products_come_from_the_catalogue_each_in_its_one_category(
    rows: list[dict[str, str]],
) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for r in rows:
        entry = (r["Product Name"], r["Product Category"])
        assert seen.setdefault(r["Product ID"], entry) == entry
    assert len(catalog.PRODUCTS) >= 50
    assert len({p.product_id for p in catalog.PRODUCTS}) == len(catalog.PRODUCTS)
    assert len({p.name for p in catalog.PRODUCTS}) == len(catalog.PRODUCTS)
    assert len(set(catalog.CATEGORIES)) == 8
    assert all(50 * 100 <= p.list_price_cents <= 500 * 100 for p in catalog.PRODUCTS)


def test_vocabularies_and_formats(rows: list[dict[str, str]]) -> None:
    methods = {"Credit Card", "Debit Card", "Pix", "Boleto", "Cash", "PayPal"}
    for r in rows:
        assert r["Sale Date"] == DAY.isoformat()
        assert r["Payment Method"] in methods
        assert r["Payment Status"] in {"Paid", "Pending", "Canceled"}
        assert r["Sales Channel"] in {"Online", "Store", "Phone", "Marketplace"}
        assert r["Sales Region"] in {"Norte", "Nordeste", "Centro-Oeste", "Sudeste", "Sul"}
        assert r["Delivery Status"] in {"Delivered", "In Transit", "Canceled"}
        assert re.fullmatch(r"1 star|[2-5] stars", r["Customer Rating"])
        assert r["Customer ID"] and r["Customer Name"] and r["Sales Representative"]


def test_payment_date_only_when_paid_within_five_days(rows: list[dict[str, str]]) -> None:
    for r in rows:
        if r["Payment Status"] == "Paid":
            delay = dt.date.fromisoformat(r["Payment Date"]) - DAY
            assert dt.timedelta(0) <= delay <= dt.timedelta(days=5)
        else:
            assert r["Payment Date"] == ""


def test_delivery_date_only_when_delivered_within_ten_days(rows: list[dict[str, str]]) -> None:
    for r in rows:
        if r["Delivery Status"] == "Delivered":
            delay = dt.date.fromisoformat(r["Delivery Date"]) - DAY
            assert dt.timedelta(days=1) <= delay <= dt.timedelta(days=10)
        else:
            assert r["Delivery Date"] == ""


def test_canceled_payment_means_canceled_delivery(rows: list[dict[str, str]]) -> None:
    for r in rows:
        if r["Payment Status"] == "Canceled":
            assert r["Delivery Status"] == "Canceled"


def test_status_mix_is_mostly_paid(rows: list[dict[str, str]]) -> None:
    paid = sum(r["Payment Status"] == "Paid" for r in rows) / len(rows)
    assert 0.75 < paid < 0.95
    assert {r["Payment Status"] for r in rows} == {"Paid", "Pending", "Canceled"}


def test_one_customer_id_has_one_name(rows: list[dict[str, str]]) -> None:
    names: dict[str, str] = {}
    for r in rows:
        assert names.setdefault(r["Customer ID"], r["Customer Name"]) == r["Customer Name"]


def test_sale_ids_unique_within_and_across_days_and_chunks() -> None:
    ids: list[str] = []
    for day in (DAY, DAY + dt.timedelta(days=1)):
        ids += [r["Sale ID"] for r in parse(csv_bytes(day=day, rows=core.CHUNK_ROWS + 10))]
    assert len(ids) == 2 * (core.CHUNK_ROWS + 10)
    assert len(set(ids)) == len(ids)


def test_same_seed_gives_identical_bytes() -> None:
    assert csv_bytes(seed=42) == csv_bytes(seed=42)


def test_different_seed_or_day_gives_different_bytes() -> None:
    assert csv_bytes(seed=42) != csv_bytes(seed=43)
    assert csv_bytes(day=DAY) != csv_bytes(day=DAY + dt.timedelta(days=1))


def test_generate_day_matches_the_written_file() -> None:
    data = csv_bytes(rows=100)
    assert list(core.generate_day(DAY, 100, 7)) == list(
        csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    )


def _args(**overrides: object) -> argparse.Namespace:
    base = {"date": DAY, "days": 1, "rows": 200, "seed": 5, "out": None, "upload": False}
    return argparse.Namespace(**(base | overrides))


def test_run_generate_writes_one_file_per_day_into_the_out_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_generate(_args(days=3, out=tmp_path / "out"), Settings()) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["sales_2026-03-12.csv", "sales_2026-03-13.csv", "sales_2026-03-14.csv"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, names, strict=True):
        path = tmp_path / "out" / name
        assert line == f"{path} rows=200 bytes={path.stat().st_size}"
        assert len(parse(path.read_bytes())) == 200


def test_a_day_is_the_same_whatever_the_number_of_days(tmp_path: Path) -> None:
    assert run_generate(_args(days=3, out=tmp_path / "many"), Settings()) == 0
    assert run_generate(_args(out=tmp_path / "one.csv"), Settings()) == 0
    many = (tmp_path / "many" / "sales_2026-03-14.csv").read_bytes()
    assert many == (tmp_path / "one.csv").read_bytes()


def test_run_generate_rejects_no_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_generate(_args(rows=0), Settings()) == 2
    assert "at least 1" in capsys.readouterr().err


class _FakeS3:
    """Just enough of a boto3 client for `upload_key`: existing keys answer head_object."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys

    def head_object(self, Bucket: str, Key: str) -> dict[str, object]:  # noqa: N803 - boto3 names
        from botocore.exceptions import ClientError

        if Key not in self.keys:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {}


def test_upload_key_is_plain_with_a_seed_even_when_it_exists() -> None:
    s3 = _FakeS3({"incoming/sales_2026-03-14.csv"})
    assert upload_key(s3, "b", DAY, seeded=True) == "incoming/sales_2026-03-14.csv"


def test_upload_key_without_seed_gets_a_time_suffix_when_taken() -> None:
    now = dt.datetime(2026, 3, 14, 9, 5, 7, tzinfo=dt.UTC)
    assert upload_key(_FakeS3(set()), "b", DAY, seeded=False, now=now) == (
        "incoming/sales_2026-03-14.csv"
    )
    taken = {"incoming/sales_2026-03-14.csv", "incoming/sales_2026-03-14_090507.csv"}
    assert upload_key(_FakeS3(taken), "b", DAY, seeded=False, now=now) == (
        "incoming/sales_2026-03-14_090507_2.csv"
    )


def test_upload_key_without_seed_is_not_reused_after_a_load_moved_it() -> None:
    now = dt.datetime(2026, 3, 14, 9, 5, 7, tzinfo=dt.UTC)
    for moved in ("processed/sales_2026-03-14.csv", "rejected/sales_2026-03-14.csv"):
        assert upload_key(_FakeS3({moved}), "b", DAY, seeded=False, now=now) == (
            "incoming/sales_2026-03-14_090507.csv"
        ), moved
