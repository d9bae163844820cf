"""COPY data for valid rows: unquoted when that cannot change a value, quoted otherwise."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest

from loader.copy import render_rows


def _table(names: list[str | None]) -> pa.Table:
    return pa.table({
        "row_number": pa.array(range(1, len(names) + 1), pa.int64()),
        "customer_name": pa.array(names, pa.string()),
        "customer_rating": pa.array([None] * len(names), pa.string()),
    })  # fmt: skip


def _fields(data: memoryview) -> list[list[str]]:
    return list(csv.reader(io.StringIO(bytes(data).decode(), newline="")))


def test_plain_values_travel_unquoted_and_null_stays_an_empty_field():
    data = render_rows(_table([" padded ", "\\N", "semi;colon"]), file_id=7)
    assert b'"' not in bytes(data)
    assert _fields(data) == [["7", "1", " padded ", ""], ["7", "2", "\\N", ""],
                             ["7", "3", "semi;colon", ""]]


@pytest.mark.parametrize("value", ['O\'Brien, "Bob"', "a,b", 'say "hi"', "line1\nline2", "cr\rhere"])
def test_a_chunk_with_a_structural_character_is_quoted_whole(value):
    data = render_rows(_table(["plain", value]), file_id=1)
    text = bytes(data).decode()
    assert text.startswith('1,1,"plain",')  # the whole chunk, not only the odd value
    assert [row[2] for row in _fields(data)] == ["plain", value]


def test_empty_text_is_quoted_so_it_stays_apart_from_null():
    data = render_rows(_table(["", "x"]), file_id=1)
    assert bytes(data).decode().splitlines()[0] == '1,1,"",'
