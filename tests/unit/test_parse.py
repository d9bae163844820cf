"""loader.parse: sniffing encoding, delimiter and header; streaming chunks; whole-file rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader import parse
from loader.parse import FileRejected, open_csv

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HUMAN = (
    "Sale Date,Sale ID,Product ID,Product Name,Product Category,Quantity Sold,Unit Price,"
    "Discount (%),Total Value (with Discount),Unit Cost,Total Cost,Gross Profit,Payment Method,"
    "Payment Status,Payment Date,Customer ID,Customer Name,Sales Channel,Sales Region,"
    "Sales Representative,Customer Rating,Shipping Cost,Delivery Status,Delivery Date"
)
ROW = (
    "2024-03-01,S-{n},P001,Mug,Kitchen,3,10.00,10,27.00,6.00,18.00,9.00,Pix,Paid,"
    "2024-03-02,C-1,Ana,Online,Sul,Rui,5 stars,4.50,Delivered,2024-03-05"
)


def write(tmp_path: Path, data: bytes | str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def all_rows(path: Path, rows: int = 50_000) -> list[parse.Chunk]:
    return list(open_csv(path).chunks(rows))


def test_ptbr_cp1252_file_sniffed_as_semicolon_with_decimal_comma():
    f = open_csv(FIXTURES / "ptbr_cp1252_semicolon.csv")
    assert (f.encoding, f.delimiter, f.decimal_comma, f.extra_columns) == ("cp1252", ";", True, [])
    [chunk] = list(f.chunks())
    assert chunk.n_rows == 3
    assert chunk.columns["customer_name"] == ["João Araújo", "Inês Gonçalves", "André Lúcio"]
    assert chunk.columns["product_name"][1] == "Pão de Açúcar"
    assert chunk.columns["unit_price"] == ["1.234,56", "12.50", "100,00"]
    assert chunk.columns["delivery_date"] == ["2024-03-04", "2024-03-03", ""]


def test_utf8_bom_file_keeps_tricky_quoted_text_exactly():
    f = open_csv(FIXTURES / "utf8_bom_tricky_quoting.csv")
    assert (f.encoding, f.delimiter, f.decimal_comma) == ("utf-8-sig", ",", False)
    [chunk] = list(f.chunks())
    assert chunk.first_row_number == 1 and chunk.n_rows == 5
    assert chunk.columns["sale_date"][0] == "2024-03-01"  # the BOM is not part of a value
    assert chunk.columns["product_name"] == [
        'Mug, "Large"',
        "Line one\nLine two",
        "☕ Coffee 🎉",
        "C:\\temp\\new\\",
        "'); drop table raw.sales; --",
    ]
    assert chunk.columns["customer_name"] == [
        "O'Brien, Pat",
        'Zoë "Z" Ü',
        "Ana\\nMaria",
        "  padded  ",
        "Robert'); DROP TABLE students;--",
    ]


def test_missing_column_rejects_file_naming_it():
    with pytest.raises(FileRejected) as exc:
        open_csv(FIXTURES / "missing_unit_price.csv")
    assert exc.value.reason == "missing required column(s): unit_price"


def test_binary_garbage_rejects_file():
    with pytest.raises(FileRejected) as exc:
        open_csv(FIXTURES / "binary_garbage.csv")
    assert exc.value.reason.startswith("binary content")


def test_bytes_neither_utf8_nor_cp1252_reject_file(tmp_path):
    path = write(tmp_path, HUMAN.encode() + b"\n\x81\x8d\xc3(\n")
    with pytest.raises(FileRejected, match="binary content"):
        open_csv(path)


def test_header_only_file_yields_no_chunks():
    f = open_csv(FIXTURES / "header_only.csv")
    assert list(f.chunks()) == []


def test_empty_file_rejected(tmp_path):
    with pytest.raises(FileRejected, match="empty file"):
        open_csv(write(tmp_path, b""))


def test_whitespace_only_file_rejected(tmp_path):
    with pytest.raises(FileRejected):
        open_csv(write(tmp_path, "\n\n  \n"))


def test_one_column_file_is_not_csv(tmp_path):
    with pytest.raises(FileRejected, match="not a CSV file"):
        open_csv(write(tmp_path, "hello world\nsecond line\n"))


def test_snake_header_in_any_order_with_extra_column_maps_by_name():
    f = open_csv(FIXTURES / "snake_shuffled_extra_column.csv")
    assert f.extra_columns == ["notes"]
    [chunk] = list(f.chunks())
    assert chunk.columns["sale_id"] == ["T-1"]
    assert chunk.columns["delivery_date"] == ["2024-03-05"]
    assert chunk.columns["unit_price"] == ["10.00"]
    assert chunk.columns["total_cost"] == ["18.00"]
    assert "notes" not in chunk.columns


def test_header_match_ignores_case_and_surrounding_spaces(tmp_path):
    header = ",".join(f"  {h.upper()} " for h in HUMAN.split(","))
    [chunk] = all_rows(write(tmp_path, header + "\n" + ROW.format(n=1) + "\n"))
    assert chunk.columns["sale_id"] == ["S-1"]


def test_repeated_column_rejects_file(tmp_path):
    with pytest.raises(FileRejected, match="repeated column"):
        open_csv(write(tmp_path, HUMAN + ",sale_id\n"))


def test_valid_utf8_without_bom_is_utf8(tmp_path):
    f = open_csv(write(tmp_path, HUMAN + "\n" + ROW.format(n=1).replace("Ana", "Zoë") + "\n"))
    assert f.encoding == "utf-8"
    assert next(f.chunks()).columns["customer_name"] == ["Zoë"]


def test_crlf_line_ends_are_not_part_of_values(tmp_path):
    data = HUMAN + "\r\n" + ROW.format(n=1) + "\r\n" + ROW.format(n=2) + "\r\n"
    [chunk] = all_rows(write(tmp_path, data))
    assert chunk.columns["delivery_date"] == ["2024-03-05", "2024-03-05"]


def test_chunks_stream_in_order_with_row_numbers(tmp_path):
    data = HUMAN + "\n" + "\n".join(ROW.format(n=i) for i in range(1, 8)) + "\n"
    chunks = all_rows(write(tmp_path, data), rows=3)
    assert [(c.first_row_number, c.n_rows) for c in chunks] == [(1, 3), (4, 3), (7, 1)]
    assert chunks[1].columns["sale_id"] == ["S-4", "S-5", "S-6"]


def test_empty_lines_are_not_rows(tmp_path):
    data = HUMAN + "\n\n" + ROW.format(n=1) + "\n\n\n" + ROW.format(n=2) + "\n"
    [chunk] = all_rows(write(tmp_path, data))
    assert chunk.columns["sale_id"] == ["S-1", "S-2"]


def test_row_with_wrong_field_count_is_marked_not_file_rejected(tmp_path):
    data = HUMAN + "\n" + ROW.format(n=1) + "\nonly,three,fields\n" + ROW.format(n=3) + "\n"
    [chunk] = all_rows(write(tmp_path, data))
    assert chunk.n_rows == 3
    assert chunk.malformed == {1: ["only", "three", "fields"]}
    assert chunk.columns["sale_id"] == ["S-1", "", "S-3"]


def test_ragged_row_after_fast_chunks_resumes_with_correct_row_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(parse, "_ARROW_BLOCK", 4096)  # pyarrow hands out chunks first
    lines = [ROW.format(n=i) for i in range(1, 301)]
    lines[249] = "x,y"
    chunks = all_rows(write(tmp_path, HUMAN + "\n" + "\n".join(lines) + "\n"), rows=40)
    assert sum(c.n_rows for c in chunks) == 300
    assert [c.first_row_number for c in chunks] == list(range(1, 301, 40))
    assert chunks[0].arrow is not None  # the first chunks came from pyarrow
    ids = [sid for c in chunks for sid in c.columns["sale_id"]]
    assert ids[:249] == [f"S-{i}" for i in range(1, 250)]
    assert ids[250:] == [f"S-{i}" for i in range(251, 301)]
    [bad] = [c for c in chunks if c.malformed]
    assert bad.first_row_number + next(iter(bad.malformed)) == 250


def test_unterminated_quote_does_not_crash(tmp_path):
    data = HUMAN + "\n" + ROW.format(n=1) + '\n"never closed,' + ROW.format(n=2) + "\n"
    chunks = all_rows(write(tmp_path, data))
    assert sum(c.n_rows for c in chunks) == 2
    assert chunks[-1].malformed


def test_chunks_rejects_non_positive_size(tmp_path):
    f = open_csv(FIXTURES / "header_only.csv")
    with pytest.raises(ValueError):
        next(f.chunks(0))


def _sales_text(n_rows: int, name: str) -> str:
    header = ",".join(parse.RAW_SALES_COLUMNS)
    row = ",".join(name if col == "customer_name" else "x" for col in parse.RAW_SALES_COLUMNS)
    return header + "\n" + "\n".join([row] * n_rows) + "\n"


def test_utf8_bytes_that_windows_1252_lacks_still_count_once_the_file_is_not_utf8(tmp_path):
    # "Ā" is C4 80 and "ā" C4 81 in UTF-8; 0x81 is undefined in Windows-1252. The first
    # megabyte is valid UTF-8, so only the lone 0xE7 (a Windows-1252 "ç") further on shows
    # the file is not UTF-8: Windows-1252 must then be checked from the start, not from there.
    first = _sales_text(1, "Māria").encode()
    ascii_rows = _sales_text(40_000, "Maria").encode().split(b"\n", 1)[1]
    assert len(ascii_rows) > parse._SCAN_BLOCK  # the 0xE7 is in a block without 0x81
    path = tmp_path / "mixed.csv"
    path.write_bytes(first + ascii_rows
                     + _sales_text(1, "Concei\xe7\xe3o").encode("cp1252").split(b"\n", 1)[1])
    with pytest.raises(FileRejected, match="neither UTF-8 nor Windows-1252"):
        open_csv(path)


def test_windows_1252_file_past_the_first_block_is_read_as_such(tmp_path):
    path = tmp_path / "br.csv"
    path.write_bytes(_sales_text(20_000, "Conceição").encode("cp1252"))
    assert path.stat().st_size > parse._SCAN_BLOCK
    assert open_csv(path).encoding == "cp1252"


def test_file_ending_inside_a_utf8_letter_is_checked_for_windows_1252_from_the_start(tmp_path):
    # Only the last byte (a cut "ç", C3 without its A7) shows the file is not UTF-8.
    path = tmp_path / "cut.csv"
    path.write_bytes(_sales_text(2, "Maria").encode() + b"Jos\xc3")
    assert open_csv(path).encoding == "cp1252"
    path.write_bytes(_sales_text(2, "Māria").encode() + b"Jos\xc3")  # 0x81: not Windows-1252
    with pytest.raises(FileRejected, match="neither UTF-8 nor Windows-1252"):
        open_csv(path)
