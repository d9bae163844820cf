"""CSV downloads: text cells a spreadsheet would run as a formula get a leading quote."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest

from dashboard.export import csv_bytes


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("https://evil.example","invoice")', '\'=HYPERLINK("https://evil.example","invoice")'),
    ("+1", "'+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tX", "'\tX"),
    ("\rX", "'\rX"),
    ("Café = bom", "Café = bom"),  # only the first character counts
    ("", ""),
])
def test_text_cell_starting_like_a_formula_gets_a_leading_quote(cell, written):
    frame = pd.DataFrame({"product_name": [cell]})
    assert rows_of(csv_bytes(frame)) == [["product_name"], [written]]


def test_numbers_dates_and_missing_values_are_left_as_they_are():
    frame = pd.DataFrame({
        "product_category": ["-Books", None],
        "sale_date": [dt.date(2026, 1, 15), dt.date(2026, 1, 16)],
        "total_sales": [-5.0, 12.5],
        "units_sold": [-5, 3],
    })
    assert rows_of(csv_bytes(frame)) == [
        ["product_category", "sale_date", "total_sales", "units_sold"],
        ["'-Books", "2026-01-15", "-5.0", "-5"],
        ["", "2026-01-16", "12.5", "3"],
    ]
    assert frame["product_category"].iloc[0] == "-Books"  # the caller's frame is unchanged


def test_carriage_return_inside_a_cell_cannot_start_a_row_of_its_own():
    frame = pd.DataFrame({"product_name": ["Tea\r=HYPERLINK(\"https://evil.example\")", "Nuts"],
                          "units_sold": [1, 2]})
    assert csv_bytes(frame) == (b'product_name,units_sold\r\n'
                                b'"Tea\r=HYPERLINK(""https://evil.example"")",1\r\n'
                                b"Nuts,2\r\n")
