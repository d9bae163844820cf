"""`generate --style upstream`: the original project's file shape, and the loader accepts it.

Expected values are recomputed here with Decimal from the printed fields, never taken from
`generator.upstream`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from generator import upstream
from generator.cli import run_generate
from loader.parse import open_csv
from loader.validate import validate_chunk, validate_chunk_reference
from salespipe.cli import build_parser
from salespipe.settings import Settings
from tests.unit.test_generator import EXPECTED_HEADER

DAY = dt.date(2026, 3, 14)
SEEDS = range(12)
MONEY = re.compile(r"^-?\d+\.\d{1,2}$")
CATEGORIES = {"Snacks", "Fresh Produce", "Household Essentials", "Beverages", "Dairy Products"}


def csv_bytes(day: dt.date = DAY, rows: int = 100, seed: int = 7) -> bytes:
    buf = io.BytesIO()
    upstream.write_csv(buf, day, rows, seed)
    return buf.getvalue()


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """Several small files, as a user would collect them."""
    out: list[dict[str, str]] = []
    for seed in SEEDS:
        out += parse(csv_bytes(rows=upstream.default_rows(DAY, seed), seed=seed))
    return out


def money(text: str) -> Decimal:
    assert MONEY.match(text), f"not an amount with one or two decimals: {text!r}"
    return Decimal(text)


def test_header_is_the_24_columns_the_loader_accepts() -> None:
    assert csv_bytes(rows=1).split(b"\n", 1)[0].decode("utf-8") == ",".join(EXPECTED_HEADER)


def test_default_file_has_50_to_100_rows_varying_with_seed_and_day() -> None:
    counts = {upstream.default_rows(DAY + dt.timedelta(days=d), s) for d in range(5) for s in SEEDS}
    assert min(counts) >= 50 and max(counts) <= 100
    assert len(counts) > 5


def test_ids_are_drawn_per_row_uuid4_sales_and_prd_products(rows: list[dict[str, str]]) -> None:
    for r in rows:
        assert uuid.UUID(r["Sale ID"]).version == 4
        assert str(uuid.UUID(r["Sale ID"])) == r["Sale ID"]
        assert re.fullmatch(r"PRD\d{5}", r["Product ID"])
        assert re.fullmatch(r"CUST\d{5}", r["Customer ID"])
    assert len({r["Sale ID"] for r in rows}) == len(rows)
    names_per_id: dict[str, set[str]] = {}
    ids_per_name: dict[str, set[str]] = {}
    for r in rows:
        names_per_id.setdefault(r["Product ID"], set()).add(r["Product Name"])
        ids_per_name.setdefault(r["Product Name"], set()).add(r["Product ID"])
    # the same name arrives under many ids: what breaks grouping products by id
    assert all(len(ids) > 5 for ids in ids_per_name.values())


def test_products_are_about_twenty_grocery_names_with_independent_categories(
    rows: list[dict[str, str]],
) -> None:
    names = {r["Product Name"] for r in rows}
    assert 18 <= len(names) <= 24
    assert {"Apples", "Bananas", "Milk", "Nuts", "Soda", "Coffee", "Dish Soap"} <= names
    assert {r["Product Category"] for r in rows} == CATEGORIES
    categories_of_milk = {r["Product Category"] for r in rows if r["Product Name"] == "Milk"}
    assert len(categories_of_milk) > 1


def test_vocabularies_and_formats(rows: list[dict[str, str]]) -> None:
    for r in rows:
        assert r["Sale Date"] == DAY.isoformat()
        assert r["Payment Method"] in {"Pix", "Credit Card", "Bank Transfer", "Invoice"}
        assert r["Payment Status"] in {"Paid", "Pending", "Canceled"}
        assert r["Sales Channel"] in {"Marketplace", "Physical Store", "Online Store"}
        assert r["Delivery Status"] in {"Delivered", "In Transit", "Canceled"}
        assert re.fullmatch(r"1 star|[2-5] stars", r["Customer Rating"])
        assert r["Discount (%)"] in {"0", "5", "10", "15", "20"}
        assert 1 <= int(r["Quantity Sold"]) <= 10
        assert r["Customer Name"] and r["Sales Representative"]
    regions = {r["Sales Region"] for r in rows}
    assert {"California", "Texas", "New York"} & regions
    assert not {"Sudeste", "Sul", "Norte"} & regions
    assert len(regions) > 20


def test_money_has_one_or_two_decimals_and_totals_are_within_a_cent(
    rows: list[dict[str, str]],
) -> None:
    decimals = Counter()
    for r in rows:
        q = int(r["Quantity Sold"])
        price, cost = money(r["Unit Price"]), money(r["Unit Cost"])
        total, total_cost = money(r["Total Value (with Discount)"]), money(r["Total Cost"])
        exact_total = q * price * (100 - Decimal(r["Discount (%)"])) / 100
        assert abs(total - exact_total) <= Decimal("0.01"), r
        assert abs(total_cost - q * cost) <= Decimal("0.01"), r
        assert abs(money(r["Gross Profit"]) - (total - total_cost)) <= Decimal("0.01"), r
        assert money(r["Shipping Cost"]) >= 0
        decimals.update(len(r[c].split(".")[1]) for c in ("Unit Price", "Unit Cost"))
    assert decimals[1] > 0 and decimals[2] > 0


def test_canceled_payment_has_no_payment_date_others_pay_on_or_after_the_sale(
    rows: list[dict[str, str]],
) -> None:
    for r in rows:
        if r["Payment Status"] == "Canceled":
            assert r["Payment Date"] == ""
        else:
            assert dt.date.fromisoformat(r["Payment Date"]) >= DAY
        if r["Delivery Status"] == "Delivered":
            assert dt.date.fromisoformat(r["Delivery Date"]) > DAY
        else:
            assert r["Delivery Date"] == ""
    assert {r["Payment Status"] for r in rows} == {"Paid", "Pending", "Canceled"}


def test_same_seed_same_bytes_other_seed_or_day_other_bytes() -> None:
    assert csv_bytes(seed=42) == csv_bytes(seed=42)
    assert csv_bytes(seed=42) != csv_bytes(seed=43)
    assert csv_bytes(day=DAY) != csv_bytes(day=DAY + dt.timedelta(days=1))


def test_chunked_writing_keeps_the_row_sequence() -> None:
    """25,001 rows cross two chunk boundaries; their first rows are the 100-row file's."""
    big = parse(csv_bytes(rows=25_001, seed=3))
    assert len(big) == 25_001
    assert big[:100] == parse(csv_bytes(rows=100, seed=3))


@pytest.mark.parametrize("seed", SEEDS)
def test_loader_accepts_every_upstream_row(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "upstream.csv"
    path.write_bytes(csv_bytes(rows=upstream.default_rows(DAY, seed), seed=seed))
    f = open_csv(path)
    [chunk] = list(f.chunks())
    fast = validate_chunk(chunk, decimal_comma=f.decimal_comma, seen_sale_ids={})
    reference = validate_chunk_reference(chunk, decimal_comma=False, seen_sale_ids={})
    assert fast.rejected == []
    assert fast == reference
    assert fast.n_valid == upstream.default_rows(DAY, seed)


def _args(**overrides: object) -> argparse.Namespace:
    base = {"date": DAY, "days": 1, "rows": None, "seed": 5, "out": None, "upload": False,
            "style": "upstream"}
    return argparse.Namespace(**(base | overrides))


def test_run_generate_upstream_style_writes_a_small_file_per_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_generate(_args(days=2, out=tmp_path), Settings()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, day in zip(lines, (DAY - dt.timedelta(days=1), DAY), strict=True):
        path = tmp_path / f"sales_{day.isoformat()}.csv"
        n = len(parse(path.read_bytes()))
        assert 50 <= n <= 100
        assert line == f"{path} rows={n} bytes={path.stat().st_size}"
        assert {r["Sale Date"] for r in parse(path.read_bytes())} == {day.isoformat()}


def test_run_generate_upstream_style_honours_rows(tmp_path: Path) -> None:
    assert run_generate(_args(rows=7, out=tmp_path / "f.csv"), Settings()) == 0
    assert len(parse((tmp_path / "f.csv").read_bytes())) == 7


def test_cli_default_style_is_the_projects_own(tmp_path: Path) -> None:
    args = build_parser().parse_args(["generate", "--seed", "5", "--date", DAY.isoformat(),
                                      "--out", str(tmp_path / "f.csv")])
    assert (args.style, args.rows) == ("project", None)
    assert run_generate(args, Settings()) == 0
    rows = parse((tmp_path / "f.csv").read_bytes())
    assert len(rows) == 1000
    assert rows[0]["Sale ID"].startswith("S-")
