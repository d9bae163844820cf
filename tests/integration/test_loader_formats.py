"""Files as people send them (.csv.gz, .zip, .xlsx) through the real S3, Kafka and PostgreSQL:
loaded by the same rules, or rejected with a reason while the loader keeps going."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.formats_support import encrypted_zip, excel_row, to_gz, to_xlsx, to_zip
from tests.integration.loader_support import (
    consume_all,
    put,
    put_and_announce,
    query,
    run_loader,
    sale,
    to_csv,
)

pytestmark = pytest.mark.integration


def files(world):
    return {k: (s, total, valid, rejected, reason) for k, s, total, valid, rejected, reason in query(
        world, "select key, status, rows_total, rows_valid, rows_rejected, reason from raw.files")}


def test_gzip_csv_is_loaded_with_bad_rows_quarantined(world):
    rows = [sale("S1", price="19.99", qty=3, discount="15"), sale("S2", quantity_sold="0"),
            sale("S3")]
    put_and_announce(world, "incoming/sales_2026-03-01.csv.gz", to_gz(to_csv(rows, human=True)))
    run_loader(world)
    assert files(world) == {"incoming/sales_2026-03-01.csv.gz": ("loaded", 3, 2, 1, None)}
    assert query(world, "select sale_id, unit_price, total_value from raw.sales "
                        "order by row_number") == [("S1", Decimal("19.99"), Decimal("50.97")),
                                                   ("S3", Decimal("100.00"), Decimal("180.00"))]
    assert query(world, "select row_number, reasons from raw.sales_rejected") == [
        (2, ["quantity_sold: not a whole number >= 1"])]


def test_zip_with_one_pt_br_csv_is_loaded(world):
    row = sale("S-BR", price="1234.50", qty=1, discount="0", unit_cost="1000.25",
               customer_name="Conceição Araújo")
    money = {"unit_price", "total_value", "unit_cost", "total_cost", "gross_profit",
             "shipping_cost"}
    br = {k: v.replace(".", ",") if k in money else v for k, v in row.items()}
    body = to_csv([br], human=True, delimiter=";", encoding="cp1252")
    put_and_announce(world, "incoming/vendas.zip", to_zip({"Vendas Março.csv": body}))
    run_loader(world)
    assert files(world)["incoming/vendas.zip"] == ("loaded", 1, 1, 0, None)
    assert query(world, "select unit_price, gross_profit, customer_name from raw.sales") == [
        (Decimal("1234.50"), Decimal("234.25"), "Conceição Araújo")]
    assert query(world, "select encoding, delimiter from raw.files") == [("cp1252", ";")]


def test_pt_br_excel_export_is_loaded_from_the_first_sheet(world):
    rows = [sale("S1", price="1234.50", qty=1, discount="0", unit_cost="1000.25"),
            sale("S2", price="19.99", qty=3, discount="15", status="Canceled"),
            sale("S3", payment_status="Pago")]
    sheet = [excel_row(rows[0], dates="dmy", numbers="comma_text"),
             excel_row(rows[1]), excel_row(rows[2])]
    sheet[0][6] = "1.234,50"
    put_and_announce(world, "incoming/Vendas Março.xlsx", to_xlsx(sheet))
    run_loader(world)
    assert files(world) == {"incoming/Vendas Março.xlsx": ("loaded", 3, 2, 1, None)}
    assert query(world, "select sale_id, sale_date::text, unit_price, total_value, "
                        "gross_profit, payment_date::text from raw.sales order by row_number") == [
        ("S1", "2026-03-01", Decimal("1234.50"), Decimal("1234.50"), Decimal("234.25"),
         "2026-03-01"),
        ("S2", "2026-03-01", Decimal("19.99"), Decimal("50.97"), Decimal("-129.03"), None),
    ]
    assert query(world, "select row_number, reasons, raw_values->>'sale_id' "
                        "from raw.sales_rejected") == [
        (3, ["payment_status: not one of Paid, Pending, Canceled"], "S3")]


def test_xlsx_larger_than_one_chunk_is_loaded_completely(world):
    n = 60_000  # the loader validates 50,000 rows at a time; speed is measured in benchmarks/
    rows = [excel_row(sale(f"S{i}", qty=1 + i % 5)) for i in range(n)]
    put_and_announce(world, "incoming/big.xlsx", to_xlsx(rows))
    run_loader(world, idle=5.0)
    assert files(world)["incoming/big.xlsx"] == ("loaded", n, n, 0, None)
    (count, units, first, last), = query(
        world, "select count(*), sum(quantity_sold), min(row_number), max(row_number) "
               "from raw.sales")
    assert (count, units, first, last) == (n, sum(1 + i % 5 for i in range(n)), 1, n)


@pytest.mark.parametrize(("key", "body", "words"), [
    ("incoming/two.zip", to_zip({"a.csv": to_csv([sale("A")]), "b.csv": to_csv([sale("B")])}),
     "holds 2 files"),
    ("incoming/locked.zip", encrypted_zip("a.csv", to_csv([sale("S1")])), "encrypted zip"),
    ("incoming/cut.csv.gz", to_gz(to_csv([sale(f"S{i}") for i in range(200)]))[:-40],
     "corrupt gzip"),
    ("incoming/report.pdf", b"%PDF-1.7 binary", "unsupported file type '.pdf'"),
    ("incoming/old.xls", b"\xd0\xcf\x11\xe0 OLE", "save it as .xlsx"),
    ("incoming/broken.xlsx", b"PK\x03\x04 not a workbook", "not a readable xlsx workbook"),
])
def test_unreadable_file_is_rejected_with_reason_and_loader_continues(world, key, body, words):
    put_and_announce(world, key, body)
    put_and_announce(world, "incoming/next.csv.gz", to_gz(to_csv([sale("S1")])))
    run_loader(world)
    got = files(world)
    status, total, _, _, reason = got[key]
    assert status == "rejected" and total == 0 and words in reason
    assert got["incoming/next.csv.gz"] == ("loaded", 1, 1, 0, None)
    assert query(world, "select count(*) from raw.sales") == [(1,)]


def test_watcher_announces_archives_and_workbooks_under_incoming(world, tmp_path):
    from announcer.watcher import watch

    keys = ["incoming/a.csv.gz", "incoming/b.zip", "incoming/c.xlsx", "incoming/d.csv"]
    put(world, keys[0], to_gz(to_csv([sale("S1")])))
    put(world, keys[1], to_zip({"b.csv": to_csv([sale("S2")])}))
    put(world, keys[2], to_xlsx([excel_row(sale("S3"))]))
    put(world, keys[3], to_csv([sale("S4")]))
    watch(world.settings, once=True, topic=world.files_topic, state_path=tmp_path / "watch.json")
    announced = sorted(m.key().decode() for m in consume_all(world, world.files_topic))
    assert announced == keys
    run_loader(world)
    assert {k: v[:3] for k, v in files(world).items()} == {k: ("loaded", 1, 1) for k in keys}
    assert sorted(r[0] for r in query(world, "select sale_id from raw.sales")) == [
        "S1", "S2", "S3", "S4"]
