"""loader.formats: which files are accepted, archives unpacked, sheet cells read as text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader.formats import file_kind, number_text, open_sales_file, sheet_dates, sheet_numbers
from loader.parse import FileRejected
from loader.validate import validate_chunk
from tests.formats_support import encrypted_zip, excel_row, to_gz, to_xlsx, to_zip
from tests.integration.loader_support import SNAKE, sale, to_csv


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def load(path: Path, name: str | None = None):
    """(valid rows as dicts, rejected rows, the opened file) through the loader's own code."""
    with open_sales_file(path, name) as f:
        seen: dict[str, int] = {}
        valid, rejected = [], []
        for chunk in f.chunks(2):  # small chunks: row numbers must continue across them
            result = validate_chunk(chunk, decimal_comma=f.decimal_comma, seen_sale_ids=seen)
            valid += result.valid.to_pylist()
            rejected += result.rejected
    return valid, rejected, f


@pytest.mark.parametrize(("name", "kind"), [
    ("incoming/sales.csv", "csv"), ("incoming/SALES.CSV", "csv"), ("incoming/sales", "csv"),
    ("incoming/sales.txt", "csv"), ("incoming/sales.csv.gz", "gzip"), ("incoming/a.b/s.ZIP", "zip"),
    ("incoming/vendas março.xlsx", "xlsx"), ("incoming/.hidden.csv", "csv"),
])
def test_kind_follows_the_key_extension(name, kind):
    assert file_kind(name) == kind


@pytest.mark.parametrize(("name", "words"), [
    ("incoming/report.pdf", "'.pdf'"), ("incoming/old.xls", "save it as .xlsx"),
    ("incoming/data.json", "expected .csv, .csv.gz, .zip (one CSV) or .xlsx"),
])
def test_unknown_extension_is_rejected_with_what_is_accepted(name, words):
    with pytest.raises(FileRejected) as err:
        file_kind(name)
    assert words in err.value.reason


def test_gzip_csv_reads_like_the_plain_csv(tmp_path):
    body = to_csv([sale("S1"), sale("S2", quantity_sold="0")])
    valid_gz, rejected_gz, f = load(write(tmp_path, "s.csv.gz", to_gz(body)))
    valid_csv, rejected_csv, _ = load(write(tmp_path, "s.csv", body))
    assert valid_gz == valid_csv and [v["sale_id"] for v in valid_gz] == ["S1"]
    assert [(r.row_number, r.reasons) for r in rejected_gz] == [
        (2, ["quantity_sold: not a whole number >= 1"])]
    assert (f.encoding, f.delimiter) == ("utf-8", ",")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.csv.gz"]  # no scratch left


def test_zip_with_one_csv_and_macos_junk_is_read(tmp_path):
    body = to_csv([sale("S1"), sale("S2", customer_name="Conceição")], human=True,
                  encoding="cp1252")
    data = to_zip({"export/vendas.csv": body, "__MACOSX/export/._vendas.csv": b"\x00\x05junk"})
    valid, rejected, f = load(write(tmp_path, "v.zip", data))
    assert [v["sale_id"] for v in valid] == ["S1", "S2"] and rejected == []
    assert valid[1]["customer_name"] == "Conceição" and f.encoding == "cp1252"


@pytest.mark.parametrize(("name", "data", "words"), [
    ("two.zip", to_zip({"a.csv": b"x", "b.csv": b"y"}), "holds 2 files (a.csv, b.csv)"),
    ("none.zip", to_zip({}), "holds no file"),
    ("locked.zip", encrypted_zip("a.csv", to_csv([sale("S1")])), "encrypted zip"),
    ("sheet.zip", to_zip({"a.xlsx": b"PK"}), "'a.xlsx' is not a CSV"),
    ("doc.zip", to_zip({"dir/": b"", "report.pdf": b"%PDF"}), "'report.pdf' is not a CSV"),
    ("junk.zip", b"PK\x03\x04 not really a zip", "corrupt zip"),
    ("bad.csv.gz", b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
    ("plain.csv.gz", b"sale_id,x\n1,2\n", "corrupt gzip"),
    ("cut.csv.gz", to_gz(to_csv([sale(f"S{i}") for i in range(50)]))[:-30], "corrupt gzip"),
    ("binary.csv.gz", to_gz(bytes(range(256)) * 4), "binary content"),
    ("fake.xlsx", b"Sale Date,Sale ID\n", "not a readable xlsx workbook"),
    ("zip.xlsx", to_zip({"a.csv": b"x"}), "not a readable xlsx workbook"),
    ("empty.xlsx", to_xlsx([], header=[]), "first sheet is empty"),
    ("cols.xlsx", to_xlsx([], header=["Sale Date", "Sale ID"]), "missing required column"),
])
def test_unreadable_archives_and_workbooks_are_rejected_with_a_reason(tmp_path, name, data, words):
    path = write(tmp_path, name, data)
    with pytest.raises(FileRejected) as err:
        load(path)
    assert words in err.value.reason
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no scratch file left behind


def test_xlsx_with_excel_dates_and_numbers_loads_like_the_csv(tmp_path):
    rows = [sale("S1", price="19.99", qty=3, discount="15"), sale("S2", status="Pending")]
    data = to_xlsx([excel_row(r) for r in rows])
    valid, rejected, f = load(write(tmp_path, "v.xlsx", data))
    assert rejected == [] and f.decimal_comma is False
    assert (valid[0]["sale_date"], valid[0]["unit_price"], valid[0]["total_value"]) == (
        "2026-03-01", "19.99", "50.97")
    assert valid[0]["quantity_sold"] == "3" and valid[1]["payment_date"] is None
    assert valid[0]["customer_name"] == "Ana Souza" and valid[0]["sales_rep"] == "João Lima"


def test_xlsx_pt_br_text_dates_and_decimal_comma_text(tmp_path):
    rows = [sale("S1", price="1234.50", qty=1, discount="0", unit_cost="1000.25"),
            sale("S2", price="10.00", day="2026-03-09")]
    sheet = [excel_row(rows[0], dates="dmy", numbers="comma_text"),
             excel_row(rows[1], dates="excel", numbers="number")]
    sheet[0][6] = "1.234,50"  # unit_price with a thousands separator
    valid, rejected, f = load(write(tmp_path, "br.xlsx", to_xlsx(sheet)))
    assert rejected == []
    assert [(v["sale_date"], v["unit_price"], v["gross_profit"]) for v in valid] == [
        ("2026-03-01", "1234.50", "234.25"), ("2026-03-09", "10", "-102")]


def test_xlsx_bad_rows_are_quarantined_with_data_row_numbers(tmp_path):
    good, bad = sale("S1"), sale("S2", payment_status="Pago")
    sheet = [excel_row(good), [""] * 24, excel_row(bad), excel_row(sale("S1"))]
    sheet[2][0] = "31/02/2026"  # not a real day: kept as typed, rejected by the date rule
    data = to_xlsx(sheet, first_rows=[[], ["", ""]])
    valid, rejected, _ = load(write(tmp_path, "bad.xlsx", data))
    assert [v["sale_id"] for v in valid] == ["S1"]
    assert [(r.row_number, r.values["sale_date"], r.reasons) for r in rejected] == [
        (2, "31/02/2026", ["sale_date: not a date (YYYY-MM-DD)",
                           "payment_status: not one of Paid, Pending, Canceled"]),
        (3, "2026-03-01", ["sale_id: duplicate in file (first at row 1)"]),
    ]


def test_xlsx_header_in_any_order_with_extra_columns(tmp_path):
    cols = ["Notes", *reversed(["sale_date", "sale_id", "product_id", "product_name",
                                "product_category", "quantity_sold", "unit_price", "discount",
                                "total_value", "unit_cost", "total_cost", "gross_profit",
                                "payment_method", "payment_status", "payment_date", "customer_id",
                                "customer_name", "sales_channel", "sales_region", "sales_rep",
                                "customer_rating", "shipping_cost", "delivery_status",
                                "delivery_date"])]
    row = excel_row(dict(sale("S1"), Notes="call first"), columns=cols)
    valid, rejected, f = load(write(tmp_path, "x.xlsx", to_xlsx([row], header=cols)))
    assert f.extra_columns == ["Notes"] and rejected == [] and valid[0]["sale_id"] == "S1"


@given(st.floats(min_value=0, max_value=1e14, allow_nan=False))
def test_number_text_is_what_the_sheet_shows(x):
    text = number_text(x)
    assert "e" not in text and "," not in text
    assert Decimal(text) == Decimal(f"{x:.15g}")  # 15 significant digits, like Excel
    assert number_text(x, decimal_comma=True) == text.replace(".", ",")


def test_number_cells_and_pt_br_text_read_as_numbers():
    got = sheet_numbers(pa.array(["50.970000000000006", "0.30000000000000004", "1.234,56",
                                  "12,5", "-7,25", "1.234", "12.50", "1,2,3", "R$ 5", "",
                                  "123456789.123456806"]))
    assert got.to_pylist() == ["50.97", "0.3", "1234.56", "12.5", "-7.25", "1.234", "12.50",
                               "1,2,3", "R$ 5", "", "123456789.123457"]


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_excel_dates_and_dd_mm_yyyy_text_become_iso(day):
    texts = [f"{day.isoformat()} 00:00:00", f"{day.isoformat()} 13:45:00",
             day.strftime("%d/%m/") + f"{day.year:04d}", f" {day.day}/{day.month}/{day.year:04d} "]
    assert sheet_dates(pa.array(texts)).to_pylist() == [day.isoformat()] * 4


@pytest.mark.parametrize("text", ["31/02/2026", "29/02/2025", "00/01/2026", "1/13/2026",
                                  "2026-03-01", "03/2026", "1/1/26", "hoje", ""])
def test_text_that_is_not_a_dd_mm_yyyy_day_is_kept_as_typed(text):
    assert sheet_dates(pa.array([text, "01/03/2026"])).to_pylist() == [text, "2026-03-01"]


_CELL = st.one_of(
    st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e16, max_value=1e16),
    st.integers(min_value=-10**6, max_value=10**6),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.booleans(),
    st.just(""),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_CELL, min_size=24, max_size=24), max_size=6),
       st.lists(st.sampled_from(["", "S1", "S2"]), min_size=6, max_size=6))
def test_any_sheet_cells_end_valid_or_rejected_never_a_crash(tmp_path, rows, ids):
    rows = [dict(zip(SNAKE, r, strict=True)) | {"sale_id": ids[i]} for i, r in enumerate(rows)]
    sheet = [[r[c] for c in SNAKE] for r in rows]
    path = write(tmp_path, "h.xlsx", to_xlsx(sheet, human=False))
    valid, rejected, _ = load(path)
    non_empty = [r for r in sheet if any(v != "" for v in r)]
    assert len(valid) + len(rejected) == len(non_empty)
    numbers = sorted([v["row_number"] for v in valid] + [r.row_number for r in rejected])
    assert numbers == list(range(1, len(non_empty) + 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
                min_size=24, max_size=24).map(lambda cells: dict(zip(SNAKE, cells, strict=True))),
       st.sampled_from(["utf-8", "cp1252"]))
def test_gzip_and_zip_give_the_same_rows_as_the_plain_csv(tmp_path, row, encoding):
    try:
        body = to_csv([row, sale("S9")], encoding=encoding)
    except UnicodeEncodeError:
        body = to_csv([row, sale("S9")])
    def outcome(path: Path) -> object:
        try:
            valid, rejected, _ = load(path)
        except FileRejected as exc:
            return exc.reason
        return valid, [(r.row_number, r.values, r.reasons) for r in rejected]

    plain = outcome(write(tmp_path, "p.csv", body))
    assert outcome(write(tmp_path, "g.csv.gz", to_gz(body))) == plain
    assert outcome(write(tmp_path, "z.zip", to_zip({"p.csv": body}))) == plain
