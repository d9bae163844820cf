"""The readers' limits on hostile files, offline: each over-limit file is refused with a
reason that names its limit; files inside the limits read as before."""

from __future__ import annotations

import pytest

from loader.formats import open_sales_file
from loader.limits import DEFAULT_LIMITS, Limits
from loader.parse import FileRejected, open_csv
from tests import hostile_files as hostile
from tests.integration.loader_support import SNAKE, sale, to_csv


def _rows(path, limits: Limits = DEFAULT_LIMITS) -> int:
    with open_sales_file(path, limits=limits) as f:
        return sum(c.n_rows for c in f.chunks(100))


def _reason(path, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(FileRejected) as exc:
        _rows(path, limits)
    return exc.value.reason


def test_line_over_the_record_limit_is_refused_with_its_line_number(tmp_path):
    body = to_csv([sale("a")]) + b"x," * 600 + b"\n" + to_csv([sale("b")])
    path = hostile.write(tmp_path / "long.csv", body)
    assert _reason(path, Limits(record_bytes=1000)) == (
        "line 3 is longer than the limit of 1,000 bytes (LOADER_MAX_RECORD_BYTES)")
    assert _rows(path, Limits(record_bytes=2000)) == 4  # the long line is a malformed row


def test_long_line_across_scan_blocks_is_refused_before_parsing(tmp_path):
    path = hostile.write(tmp_path / "l.csv", to_csv([]) + b"," * (3 << 20))
    assert _reason(path) == ("line 2 is longer than the limit of 1,048,576 bytes "
                             "(LOADER_MAX_RECORD_BYTES)")


@pytest.mark.parametrize("short_lines", [0, 1, 40_000, 80_000, 130_000])
@pytest.mark.parametrize("long_bytes", [5_001, 70_000, 1_500_000])
def test_a_long_line_after_many_blocks_is_named_by_its_line_number(tmp_path, short_lines,
                                                                   long_bytes):
    # The long line starts inside a 1 MiB scan block, at its start, or spans several blocks.
    header = to_csv([]).rstrip(b"\n")
    lines = [header] + [b"a,b,c,d,e,f,g,h,i,j,k,l,m"] * short_lines + [b"x" * long_bytes] + [b"y"]
    path = hostile.write(tmp_path / "l.csv", b"\n".join(lines) + b"\n")
    line = short_lines + 2
    assert lines[line - 1] == b"x" * long_bytes
    assert _reason(path, Limits(record_bytes=5_000)) == (
        f"line {line} is longer than the limit of 5,000 bytes (LOADER_MAX_RECORD_BYTES)")


def test_utf8_rows_then_a_cp1252_row_are_refused_as_mixed(tmp_path):
    path = hostile.write(tmp_path / "mixed.csv", hostile.mixed_encodings())
    with pytest.raises(FileRejected) as exc:
        open_csv(path)
    assert exc.value.reason == ("mixed encodings: line 2 is UTF-8 but line 3 does not decode "
                                "as UTF-8 (re-export the whole file as UTF-8)")


def test_a_whole_cp1252_file_is_still_read_as_cp1252(tmp_path):
    rows = [sale("1", product_name="Pão de açúcar"), sale("2", customer_name="JOSÉ\u00a0CONCEIÇÃO")]
    path = hostile.write(tmp_path / "cp.csv", to_csv(rows, encoding="cp1252"))
    assert open_csv(path).encoding == "cp1252"


def test_rows_over_the_limit_refuse_the_file(tmp_path):
    path = hostile.write(tmp_path / "r.csv", to_csv([sale(str(i)) for i in range(250)]))
    assert _reason(path, Limits(rows=200)) == (
        "the file holds at least 250 rows, over the limit of 200 (LOADER_MAX_ROWS)")
    assert _rows(path, Limits(rows=250)) == 250  # exactly at the limit is fine


def test_field_over_the_limit_names_row_and_column(tmp_path):
    rows = [sale("1"), sale("2", product_name="N" * 5000)]
    path = hostile.write(tmp_path / "f.csv", to_csv(rows))
    assert _reason(path, Limits(field_bytes=4096)) == (
        "row 2, product_name: the value holds 5,000 bytes, over the limit of 4,096 "
        "(LOADER_MAX_FIELD_BYTES)")


def test_gzip_bomb_stops_at_the_unpack_limit(tmp_path):
    path = hostile.write(tmp_path / "b.csv.gz", hostile.gzip_bomb(1 << 30))
    reason = _reason(path, Limits(unpacked_bytes=8 << 20))
    assert reason.startswith("the archive unpacks to at least ")
    assert reason.endswith("over the limit of 8,388,608 (LOADER_MAX_UNPACKED_BYTES)")


def test_zip_member_declaring_too_much_is_refused_before_unpacking(tmp_path):
    path = hostile.write(tmp_path / "b.zip", hostile.zip_bomb(64 << 20))
    assert _reason(path, Limits(unpacked_bytes=1 << 20)) == (
        "zip member 'sales.csv' declares 67,108,864 bytes, over the limit of 1,048,576 "
        "(LOADER_MAX_UNPACKED_BYTES)")


def test_sheet_declaring_the_last_cell_is_refused_without_reading_it(tmp_path):
    path = hostile.write(tmp_path / "far.xlsx", hostile.xlsx_far_cell())
    assert _reason(path) == (
        "xlsx: the first sheet declares (A1:XFD1048576) 17,179,869,184 cells, over the limit "
        "of 6,000,000 (LOADER_MAX_SHEET_CELLS)")


def test_huge_shared_string_is_refused_before_the_sheet_is_read(tmp_path):
    path = hostile.write(tmp_path / "s.xlsx", hostile.xlsx_huge_shared_string(200_000, 48))
    assert "over the limit of 65,536 (LOADER_MAX_FIELD_BYTES)" in _reason(path)


def test_sheet_reader_abort_is_a_rejection_not_a_crash(tmp_path):
    path = hostile.write(tmp_path / "far.xlsx", hostile.xlsx_far_cell(declare=False))
    assert _reason(path) == (
        "xlsx: the sheet reader was stopped by signal SIGABRT (it ran out of its "
        "2,147,483,648-byte memory limit, LOADER_MAX_READER_MEMORY_BYTES): the workbook "
        "cannot be read safely")


def test_small_workbook_within_limits_reads(tmp_path):
    path = hostile.write(tmp_path / "ok.xlsx", hostile.xlsx_many_rows(7))
    assert _rows(path) == 7


def test_quoted_field_over_many_short_lines_is_refused_at_the_record_limit(tmp_path):
    values = [sale("Q1")[c] for c in SNAKE]
    values[3] = '"' + "abc\n" * 2_500_000 + '"'  # 10 MB of 4-byte lines: past pyarrow's block
    body = to_csv([]) + ",".join(values).encode() + b"\r\n"
    path = hostile.write(tmp_path / "q.csv", body)
    assert _reason(path) == ("a quoted field is longer than the limit of 1,048,576 bytes "
                             "(LOADER_MAX_RECORD_BYTES)")


def test_header_wider_than_the_csv_modules_default_field_limit_reads(tmp_path):
    extra = b",".join(b"extra_%d" % i for i in range(30_000))  # ~300 KB header line
    header = to_csv([]).rstrip(b"\r\n") + b"," + extra + b"\r\n"
    rows = b"".join(",".join(sale(f"W{i}")[c] for c in SNAKE).encode() + b"," * 30_000 + b"\r\n"
                    for i in range(3))
    path = hostile.write(tmp_path / "wide.csv", header + rows)
    assert _rows(path) == 3
