"""cli.check: the report's arithmetic and grouping (the CLI itself: tests/integration)."""

from __future__ import annotations

import json
from decimal import Decimal

from cli.check import (
    CLEAN,
    FILE_REJECTED,
    ROWS_REJECTED,
    FileReport,
    Kpis,
    check_file,
    render_json,
    render_text,
    translate_reason,
)
from loader.validate import ValidationResult
from tests.integration.loader_support import SNAKE, sale, to_csv


def valid_table(rows: list[dict[str, str]]):
    return ValidationResult.from_rows(list(range(1, len(rows) + 1)),
                                      [tuple(r[c] for c in SNAKE) for r in rows], []).valid


def test_canceled_sales_are_left_out_and_ticket_rounds_half_up_to_cents():
    k = Kpis()
    k.add(valid_table([sale("A", qty=1, price="10.00", discount="0"),
                       sale("B", qty=1, price="10.01", discount="0"),
                       sale("C", qty=1, price="10.00", discount="0"),
                       sale("D", qty=9, price="99.00", discount="0", status="Canceled")]))
    assert (k.total_sales, k.transactions, k.units_sold) == (Decimal("30.01"), 3, 3)
    assert k.avg_ticket == Decimal("10.00")  # 10.00333...
    k.add(valid_table([sale("E", qty=1, price="0.02", discount="0")]))
    assert k.avg_ticket == Decimal("7.51")  # 30.03 / 4 = 7.5075


def test_no_counted_sale_has_no_average_ticket():
    k = Kpis()
    k.add(valid_table([sale("A", status="Canceled")]))
    assert (k.transactions, k.avg_ticket, k.top_products()) == (0, None, [])


def test_top_products_rank_by_units_then_sales_then_name_across_chunks():
    k = Kpis()
    k.add(valid_table([sale("A", qty=2, price="5.00", discount="0", product_name="Pão"),
                       sale("B", qty=3, price="1.00", discount="0", product_name="Café")]))
    k.add(valid_table([sale("C", qty=3, price="2.00", discount="0", product_name="Chá"),
                       sale("D", qty=1, price="1.00", discount="0", product_name="Pão")]))
    assert k.top_products() == [("Pão", 3, Decimal("11.00")), ("Chá", 3, Decimal("6.00")),
                                ("Café", 3, Decimal("3.00"))]
    assert k.top_products(1) == [("Pão", 3, Decimal("11.00"))]


def test_duplicates_group_under_one_reason_with_every_row_number(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(to_csv([sale("S1"), sale("S1"), sale("S2"), sale("S2"), sale("S1")]))
    report = check_file(path)
    assert report.verdict == ROWS_REJECTED and (report.rows_valid, report.rows_rejected) == (2, 3)
    assert report.rejected_rows == {"sale_id: duplicate in file": [2, 4, 5]}


def test_verdicts_for_clean_and_unreadable_files(tmp_path):
    clean, broken = tmp_path / "ok.csv", tmp_path / "x.csv.gz"
    clean.write_bytes(to_csv([sale("S1")]))
    broken.write_bytes(b"not gzip")
    assert check_file(clean).verdict == CLEAN
    report = check_file(broken)
    assert (report.verdict, report.kind) == (FILE_REJECTED, "gzip")
    assert report.reason is not None and report.reason.startswith("corrupt gzip")


def test_reasons_translate_phrase_by_phrase_keeping_column_names():
    assert translate_reason("discount: not a number between 0 and 100", "pt-BR") == (
        "discount: não é um número entre 0 e 100")
    assert translate_reason("gross_profit: not a number", "pt-BR") == (
        "gross_profit: não é um número")
    assert translate_reason("row has 3 fields, header has 24", "pt-BR") == (
        "a linha tem 3 campos, o cabeçalho tem 24")
    assert translate_reason("sale_id: empty", "en") == "sale_id: empty"


HOSTILE_NAME = "Café\x1b[2J\n✓ would load cleanly\u202e"


def hostile_report() -> FileReport:
    report = FileReport("in\x1b[31m.csv", ROWS_REJECTED, "csv", encoding="utf-8", delimiter="\t",
                        extra_columns=["note\r\x1b]0;pwned\x07"], rows_valid=1, rows_rejected=1,
                        rejected_rows={"payment_status: not one of Paid\n✓ x\x9b": [2]})
    report.kpis = Kpis(Decimal("5.00"), 1, 1, {HOSTILE_NAME: [1, Decimal("5.00")]})
    return report


def test_text_report_shows_file_text_with_its_controls_escaped():
    text = render_text([hostile_report()], "en")
    assert text.splitlines() == [
        "in\\u001b[31m.csv: would load with rejected rows",
        "  format: csv, utf-8, '\\t'",
        "  extra columns (ignored): note\\r\\u001b]0;pwned\\u0007",
        "  rows: 2 (1 valid, 1 rejected)",
        "  rejected rows by reason:",
        "    payment_status: not one of Paid\\n✓ x\\u009b - 1 row(s): 2",
        "  KPIs of the valid rows (canceled sales excluded):",
        "    total sales: R$ 5.00",
        "    transactions: 1",
        "    average ticket: R$ 5.00",
        "    units sold: 1",
        "    top products by units:",
        "      1. Café\\u001b[2J\\n✓ would load cleanly\\u202e: 1 units, R$ 5.00",
        "1 file(s) checked: 1 with problems",
    ]


def test_rejected_file_reason_is_escaped_in_text():
    report = FileReport("z.zip", FILE_REJECTED, "zip",
                        "expected exactly one CSV, found: a.csv\n✓ b\x1b[2J.csv")
    assert render_text([report], "en").splitlines()[1] == (
        "  reason: expected exactly one CSV, found: a.csv\\n✓ b\\u001b[2J.csv")


def test_json_report_has_no_raw_control_or_bidi_character_and_decodes_to_the_same_text():
    text = render_json([hostile_report()])
    assert not any(ch in text for ch in "\x1b\r\t\x07\x9b\u202e")
    assert "\\u001b[2J\\n✓ would load cleanly\\u202e" in text
    assert "Café" in text  # accents stay readable
    decoded = json.loads(text)["files"][0]
    assert decoded["kpis"]["top_products"][0]["product_name"] == HOSTILE_NAME
    assert decoded["extra_columns"] == ["note\r\x1b]0;pwned\x07"]
