"""cli.check: the report's arithmetic and grouping (the CLI itself: tests/integration)."""

from __future__ import annotations

from decimal import Decimal

from cli.check import CLEAN, FILE_REJECTED, ROWS_REJECTED, Kpis, check_file, translate_reason
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
