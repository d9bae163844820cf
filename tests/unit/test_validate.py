"""loader.validate: every row rule, normalization for COPY, duplicates and conservation."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.columns import RAW_SALES_COLUMNS
from loader.parse import Chunk, open_csv
from loader.validate import validate_chunk, validate_chunk_reference

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

BASE = {
    "sale_date": "2024-03-01", "sale_id": "S-1", "product_id": "P001", "product_name": "Mug",
    "product_category": "Kitchen", "quantity_sold": "3", "unit_price": "10.00",
    "discount": "10", "total_value": "27.00", "unit_cost": "6.00", "total_cost": "18.00",
    "gross_profit": "9.00", "payment_method": "Pix", "payment_status": "Paid",
    "payment_date": "2024-03-02", "customer_id": "C-1", "customer_name": "Ana",
    "sales_channel": "Online", "sales_region": "Sul", "sales_rep": "Rui",
    "customer_rating": "5 stars", "shipping_cost": "4.50", "delivery_status": "Delivered",
    "delivery_date": "2024-03-05",
}  # fmt: skip
BASE_ROW = (
    "2024-03-01", "S-1", "P001", "Mug", "Kitchen", "3", "10.00", "10", "27.00", "6.00",
    "18.00", "9.00", "Pix", "Paid", "2024-03-02", "C-1", "Ana", "Online", "Sul", "Rui",
    "5 stars", "4.50", "Delivered", "2024-03-05",
)  # fmt: skip


def chunk_of(*rows: dict[str, str], first: int = 1) -> Chunk:
    return Chunk(first, len(rows), {c: [r[c] for r in rows] for c in RAW_SALES_COLUMNS})


def row(**changes: str) -> dict[str, str]:
    return {**BASE, **changes}


def check(*rows: dict[str, str], comma: bool = False, seen: dict | None = None):
    """validate_chunk, asserting the pydantic reference gives the very same result."""
    chunk = chunk_of(*rows)
    fast = validate_chunk(chunk, decimal_comma=comma, seen_sale_ids=dict(seen or {}))
    ref = validate_chunk_reference(chunk, decimal_comma=comma, seen_sale_ids=dict(seen or {}))
    assert fast == ref
    assert len(fast.valid_rows) + len(fast.rejected) == len(rows)
    return fast


def reasons_of(**changes: str) -> list[str]:
    result = check(row(**changes))
    return result.rejected[0].reasons if result.rejected else []


def test_valid_row_is_copied_as_sent():
    result = check(row())
    assert result.valid_rows == [BASE_ROW]
    assert result.valid_row_numbers == [1]
    assert result.rejected == []


@pytest.mark.parametrize(
    "col",
    [
        "sale_id",
        "product_id",
        "product_name",
        "product_category",
        "payment_method",
        "customer_id",
        "customer_name",
        "sales_channel",
        "sales_region",
        "sales_rep",
    ],
)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_required_text_rejected(col, blank):
    assert reasons_of(**{col: blank}) == [f"{col}: empty"]


def test_text_is_stored_exactly_as_sent_including_spaces_and_quotes():
    name = "  Zoë \"Z\" O'Brien \\ '); drop table raw.sales; -- 🎉 "
    [out] = check(row(customer_name=name, product_name="a,b\nc")).valid_rows
    assert out[16] == name and out[3] == "a,b\nc"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "2024-02-30",
        "2023-02-29",
        "01/03/2024",
        "2024-3-1",
        "20240301",
        "0000-01-01",
        "2024-03-01T00:00",
        "2024-13-01",
    ],
)
def test_sale_date_must_be_real_iso_date(bad):
    assert "sale_date: not a date (YYYY-MM-DD)" in reasons_of(sale_date=bad)


def test_leap_day_is_a_date():
    [out] = check(
        row(sale_date="2024-02-29", payment_date="2024-02-29", delivery_date="2024-03-01")
    ).valid_rows
    assert out[0] == "2024-02-29"


@pytest.mark.parametrize("col", ["payment_date", "delivery_date"])
def test_optional_date_before_sale_date_rejected(col):
    assert reasons_of(**{col: "2024-02-29"}) == [f"{col}: before sale_date"]


@pytest.mark.parametrize("col", ["payment_date", "delivery_date"])
def test_optional_date_not_a_date_rejected(col):
    assert reasons_of(**{col: "soon"}) == [f"{col}: not a date (YYYY-MM-DD)"]


def test_empty_optional_dates_and_rating_become_null():
    [out] = check(row(payment_date="", delivery_date=" ", customer_rating="")).valid_rows
    assert (out[14], out[20], out[23]) == (None, None, None)


def test_same_day_payment_and_delivery_are_fine():
    assert reasons_of(payment_date="2024-03-01", delivery_date="2024-03-01") == []


@pytest.mark.parametrize("bad", ["2.5", "0", "-1", "", "three", "1e1", "3.01", " ", "+3"])
def test_quantity_must_be_whole_number_at_least_one(bad):
    assert "quantity_sold: not a whole number >= 1" in reasons_of(quantity_sold=bad)


def test_quantity_above_postgres_integer_rejected():
    assert "quantity_sold: larger than 2147483647" in reasons_of(quantity_sold="2147483648")


def test_quantity_written_as_whole_decimal_is_stored_as_integer():
    [out] = check(row(quantity_sold="3.00")).valid_rows
    assert out[5] == "3"


@pytest.mark.parametrize("col", ["unit_price", "unit_cost", "total_value", "total_cost", "shipping_cost"])
@pytest.mark.parametrize(
    "bad",
    ["-1.00", "NaN", "nan", "inf", "Infinity", "1e5", "", "1,5", "1.234.56", ".5", "5.", "0x10", "1 000"],
)
def test_money_must_be_plain_non_negative_number(col, bad):
    assert f"{col}: not a number >= 0" in reasons_of(**{col: bad})


def test_gross_profit_may_be_negative():
    result = check(row(unit_cost="10.00", total_cost="30.00", gross_profit="-3.00"))
    assert result.valid_rows[0][11] == "-3.00"


@pytest.mark.parametrize("bad", ["NaN", "", "--1", "1e2"])
def test_gross_profit_must_be_a_number(bad):
    assert "gross_profit: not a number" in reasons_of(gross_profit=bad)


def test_empty_discount_means_zero():
    [out] = check(row(discount="", total_value="30.00", gross_profit="12.00")).valid_rows
    assert out[7] == "0"


@pytest.mark.parametrize("bad", ["101", "100.01", "-5", "ten"])
def test_discount_must_be_between_0_and_100(bad):
    assert "discount: not a number between 0 and 100" in reasons_of(discount=bad)


def test_full_discount_is_allowed():
    assert reasons_of(discount="100", total_value="0", gross_profit="-18.00") == []


def test_total_value_within_one_cent_accepted():
    # 27.01 - 27 is exactly 0.01 in decimal but not in binary floating point.
    assert reasons_of(total_value="27.01", gross_profit="9.01") == []
    assert reasons_of(total_value="26.99", gross_profit="8.99") == []


def test_total_value_off_by_more_than_a_cent_rejected():
    assert reasons_of(total_value="27.02", gross_profit="9.02") == [
        "total_value: differs from quantity_sold * unit_price * (1 - discount/100) by more than 0.01"
    ]


def test_total_cost_must_match_quantity_times_unit_cost():
    assert reasons_of(total_cost="18.02", gross_profit="8.98") == [
        "total_cost: differs from quantity_sold * unit_cost by more than 0.01"
    ]


def test_gross_profit_must_match_total_value_minus_total_cost():
    assert reasons_of(gross_profit="9.02") == [
        "gross_profit: differs from total_value - total_cost by more than 0.01"
    ]


def test_arithmetic_not_checked_when_an_input_is_invalid():
    assert reasons_of(quantity_sold="2.5") == ["quantity_sold: not a whole number >= 1"]


def test_statuses_must_be_known_exactly():
    assert reasons_of(payment_status="paid") == ["payment_status: not one of Paid, Pending, Canceled"]
    assert reasons_of(delivery_status="In transit ") == [
        "delivery_status: not one of Delivered, In Transit, Canceled"
    ]
    for status in ("Paid", "Pending", "Canceled"):
        assert reasons_of(payment_status=status) == []
    for status in ("Delivered", "In Transit", "Canceled"):
        assert reasons_of(delivery_status=status) == []


def test_every_applicable_reason_is_listed():
    assert reasons_of(sale_id="", unit_price="abc", payment_status="?", gross_profit="1.00") == [
        "sale_id: empty",
        "unit_price: not a number >= 0",
        "payment_status: not one of Paid, Pending, Canceled",
        "gross_profit: differs from total_value - total_cost by more than 0.01",
    ]


def test_rejected_row_keeps_original_values_and_row_number():
    result = check(row(), row(sale_id="S-2", unit_price="1.234,00"))
    [rej] = result.rejected
    assert rej.row_number == 2
    assert rej.values == {**BASE, "sale_id": "S-2", "unit_price": "1.234,00"}


def test_duplicate_sale_id_in_file_keeps_first():
    result = check(row(), row(customer_name="Other"), row(sale_id="S-2"))
    assert result.valid_row_numbers == [1, 3]
    [dup] = result.rejected
    assert (dup.row_number, dup.reasons) == (2, ["sale_id: duplicate in file (first at row 1)"])


def test_duplicate_sale_id_detected_across_chunks():
    seen: dict[str, int] = {}
    first = validate_chunk(chunk_of(row()), decimal_comma=False, seen_sale_ids=seen)
    later = validate_chunk(
        chunk_of(row(sale_id="S-9"), row(), first=51), decimal_comma=False, seen_sale_ids=seen
    )
    assert first.valid_row_numbers == [1] and later.valid_row_numbers == [51]
    assert later.rejected[0].row_number == 52
    assert later.rejected[0].reasons == ["sale_id: duplicate in file (first at row 1)"]
    assert seen == {"S-1": 1, "S-9": 51}


def test_invalid_first_occurrence_does_not_claim_sale_id():
    result = check(row(payment_status="?"), row())
    assert result.valid_row_numbers == [2]
    assert result.rejected[0].reasons == ["payment_status: not one of Paid, Pending, Canceled"]


def test_invalid_later_duplicate_lists_duplicate_with_other_reasons():
    result = check(row(), row(payment_status="?"))
    assert result.rejected[0].reasons == [
        "payment_status: not one of Paid, Pending, Canceled",
        "sale_id: duplicate in file (first at row 1)",
    ]


def test_a_set_of_seen_ids_also_works():
    seen: set[str] = {"S-1"}
    result = validate_chunk(chunk_of(row()), decimal_comma=False, seen_sale_ids=seen)
    assert result.rejected[0].reasons == ["sale_id: duplicate in file"]


def test_decimal_comma_numbers_are_normalized_with_thousands():
    result = check(
        row(
            unit_price="1.234,56",
            quantity_sold="2",
            discount="0",
            total_value="2.469,12",
            unit_cost="1.000,00",
            total_cost="2.000,00",
            gross_profit="469,12",
            shipping_cost="12,5",
        ),
        comma=True,
    )
    out = result.valid_rows[0]
    assert (out[5], out[6], out[7], out[8], out[9], out[10], out[11], out[21]) == (
        "2",
        "1234.56",
        "0",
        "2469.12",
        "1000.00",
        "2000.00",
        "469.12",
        "12.5",
    )


def test_dot_decimal_is_not_a_number_in_a_semicolon_file():
    assert check(row(), comma=True).rejected[0].reasons[0] == "unit_price: not a number >= 0"


def test_thousands_separator_is_not_accepted_in_a_comma_file():
    assert "unit_price: not a number >= 0" in reasons_of(unit_price="1,000.00")


def test_surrounding_spaces_around_numbers_and_dates_are_dropped():
    [out] = check(row(unit_price=" 10.00 ", sale_date=" 2024-03-01")).valid_rows
    assert (out[0], out[6]) == ("2024-03-01", "10.00")


def test_malformed_row_rejected_with_field_counts():
    chunk = chunk_of(row(), row())
    chunk.malformed = {1: ["a", "b", "c"]}
    chunk.header = [*RAW_SALES_COLUMNS]
    result = validate_chunk(chunk, decimal_comma=False, seen_sale_ids={})
    assert result.valid_row_numbers == [1]
    [rej] = result.rejected
    assert rej.reasons == ["row has 3 fields, header has 24"]
    assert rej.values == {"sale_date": "a", "sale_id": "b", "product_id": "c"}


def test_empty_chunk_gives_empty_result():
    result = validate_chunk(chunk_of(), decimal_comma=False, seen_sale_ids={})
    assert (result.valid_rows, result.rejected) == ([], [])


def test_ptbr_fixture_validates_to_normalized_rows():
    f = open_csv(FIXTURES / "ptbr_cp1252_semicolon.csv")
    [chunk] = list(f.chunks())
    result = validate_chunk(chunk, decimal_comma=f.decimal_comma, seen_sale_ids={})
    assert result.valid_row_numbers == [1, 3]
    first, third = result.valid_rows
    assert first[6:12] == ("1234.56", "0", "2469.12", "1000.00", "2000.00", "469.12")
    assert first[16] == "João Araújo"
    assert third[7] == "7.5" and third[14] is None and third[23] is None
    [rej] = result.rejected
    assert (rej.row_number, rej.reasons) == (2, ["unit_price: not a number >= 0"])


def test_tricky_fixture_rows_are_all_valid_and_text_is_unchanged():
    f = open_csv(FIXTURES / "utf8_bom_tricky_quoting.csv")
    [chunk] = list(f.chunks())
    result = validate_chunk(chunk, decimal_comma=False, seen_sale_ids={})
    assert result.rejected == []
    assert [r[3] for r in result.valid_rows] == [
        'Mug, "Large"',
        "Line one\nLine two",
        "☕ Coffee 🎉",
        "C:\\temp\\new\\",
        "'); drop table raw.sales; --",
    ]


def test_snake_shuffled_fixture_row_equals_base_row():
    f = open_csv(FIXTURES / "snake_shuffled_extra_column.csv")
    [chunk] = list(f.chunks())
    result = validate_chunk(chunk, decimal_comma=False, seen_sale_ids={})
    assert result.valid_rows == [(
        "2024-03-01", "T-1", "P001", "x", "Kitchen", "3", "10.00", "10", "27.00", "6.00",
        "18.00", "9.00", "Credit Card", "Paid", "2024-03-02", "C-1", "Ana", "Online", "Sul",
        "Rui", "5 stars", "4.50", "Delivered", "2024-03-05",
    )]  # fmt: skip


# -- Unicode blanks and invisible characters -----------------------------------------------------

# Written out by hand (not taken from loader.rules): Unicode spaces, then zero-width/format.
UNICODE_BLANKS = [
    "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
    "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
]  # fmt: skip


def test_zero_width_space_sale_id_is_empty_on_both_paths():
    chunk = chunk_of(row(sale_id="\u200b"))
    for validate in (validate_chunk, validate_chunk_reference):
        result = validate(chunk, decimal_comma=False, seen_sale_ids={})
        assert result.valid_rows == []
        [rej] = result.rejected
        assert (rej.row_number, rej.reasons) == (1, ["sale_id: empty"])
        assert rej.values["sale_id"] == "\u200b"


@pytest.mark.parametrize("char", UNICODE_BLANKS)
def test_each_unicode_blank_alone_is_empty(char):
    assert reasons_of(sale_id=char) == ["sale_id: empty"]


@pytest.mark.parametrize("blank", ["\u200b\u200b", " \u00a0\t", "\ufeff\u2060\u200d", "\u3000\n\u2028"])
def test_runs_of_blanks_are_empty(blank):
    assert reasons_of(customer_id=blank) == ["customer_id: empty"]


def test_nbsp_only_product_name_rejected():
    assert reasons_of(product_name="\u00a0") == ["product_name: empty"]


def test_invisible_only_sale_ids_are_not_duplicates_of_each_other():
    result = check(row(sale_id="\u200b"), row(sale_id="\u200b"))
    assert [r.reasons for r in result.rejected] == [["sale_id: empty"], ["sale_id: empty"]]


def test_text_containing_invisible_characters_is_stored_exactly_as_sent():
    [out] = check(
        row(product_name="Maçã\u200b", sale_id="\u200bS-9", customer_name="\u00a0Ana\u3000")
    ).valid_rows
    assert (out[3], out[1], out[16]) == ("Maçã\u200b", "\u200bS-9", "\u00a0Ana\u3000")


@pytest.mark.parametrize("char", ["\u0085", "\u180e", "\u00ad", "\u200e", "\u2061", "\x1c"])
def test_characters_outside_the_blank_set_are_text(char):
    [out] = check(row(product_name=char)).valid_rows
    assert out[3] == char


def test_invisible_only_optional_values_become_null():
    changes = {"customer_rating": "\u200b", "payment_date": "\u00a0", "delivery_date": "\u3000\ufeff"}
    [out] = check(row(**changes)).valid_rows
    assert (out[14], out[20], out[23]) == (None, None, None)


def test_invisible_only_discount_means_zero():
    [out] = check(row(discount="\u200b\u00a0", total_value="30.00", gross_profit="12.00")).valid_rows
    assert out[7] == "0"


def test_invisible_only_sale_date_is_not_a_date():
    assert reasons_of(sale_date="\u00a0") == ["sale_date: not a date (YYYY-MM-DD)"]


def test_number_wrapped_in_unicode_spaces_is_not_a_number():
    assert reasons_of(unit_price="\u00a010.00") == ["unit_price: not a number >= 0"]


# -- at most 20 decimal places ------------------------------------------------------------------

COMMA_BASE = {
    "total_value": "27,00", "unit_cost": "6,00", "total_cost": "18,00", "gross_profit": "9,00",
    "shipping_cost": "4,50",
}  # fmt: skip


def test_twenty_thousand_decimal_places_rejected_on_both_paths():
    chunk = chunk_of(row(unit_price="1." + "5" * 20000))
    for validate in (validate_chunk, validate_chunk_reference):
        result = validate(chunk, decimal_comma=False, seen_sale_ids={})
        assert result.valid_rows == []
        assert [r.reasons for r in result.rejected] == [["unit_price: more than 20 decimal places"]]


def test_twenty_decimal_places_accepted_and_stored_as_sent():
    # 3 * 1.12345678901234567890 * 0.9 = 3.03333333033333333303
    [out] = check(
        row(unit_price="1.12345678901234567890", total_value="3.03", gross_profit="-14.97")
    ).valid_rows
    assert out[6] == "1.12345678901234567890"


def test_excel_formula_result_with_fifteen_significant_digits_is_valid():
    # 3 * 3.33333333333333 = 9.99999999999999, within 0.01 of 10.00
    changes = {"unit_price": "3.33333333333333", "discount": "0", "total_value": "10.00",
               "gross_profit": "-8.00"}  # fmt: skip
    [out] = check(row(**changes)).valid_rows
    assert (out[6], out[7], out[8]) == ("3.33333333333333", "0", "10.00")


def test_pandas_float_repr_unit_cost_is_valid():
    # 3 * 0.30000000000000004 = 0.90000000000000012; 30.00 - 0.90 = 29.10
    changes = {"unit_cost": "0.30000000000000004", "discount": "0", "total_value": "30.00",
               "total_cost": "0.90", "gross_profit": "29.10"}  # fmt: skip
    [out] = check(row(**changes)).valid_rows
    assert (out[9], out[10], out[11]) == ("0.30000000000000004", "0.90", "29.10")


@pytest.mark.parametrize(
    "col", ["unit_price", "unit_cost", "total_value", "total_cost", "shipping_cost", "gross_profit"]
)
@pytest.mark.parametrize(
    "value", ["1.123456789012345678901", "0.000000000000000000000", " 10.000000000000000000000 "]
)
def test_twenty_one_decimal_places_rejected_in_every_number_column(col, value):
    assert reasons_of(**{col: value}) == [f"{col}: more than 20 decimal places"]


def test_negative_gross_profit_with_long_fraction_rejected():
    assert reasons_of(gross_profit="-9.000000000000000000001") == [
        "gross_profit: more than 20 decimal places"
    ]


@pytest.mark.parametrize(
    "value", ["10.000000000000000000000", "100.000000000000000000001", "5." + "0" * 20000]
)
def test_discount_with_long_fraction_rejected_for_its_places(value):
    assert reasons_of(discount=value) == ["discount: more than 20 decimal places"]


def test_semicolon_file_long_fraction_rejected():
    result = check(row(unit_price="1.234,123456789012345678901", **COMMA_BASE), comma=True)
    assert [r.reasons for r in result.rejected] == [["unit_price: more than 20 decimal places"]]


def test_semicolon_file_nine_places_with_thousands_accepted():
    # 3 * 1234.123456789 * 0.9 = 3332.1333333303
    values = {**COMMA_BASE, "total_value": "3.332,13", "gross_profit": "3.314,13"}
    [out] = check(row(unit_price="1.234,123456789", **values), comma=True).valid_rows
    assert out[6] == "1234.123456789"


def test_semicolon_file_twenty_places_with_thousands_accepted():
    # 3 * 1234.12345678901234567890 * 0.9 = 3332.13333333033333333303
    values = {**COMMA_BASE, "total_value": "3.332,13", "gross_profit": "3.314,13"}
    [out] = check(row(unit_price="1.234,12345678901234567890", **values), comma=True).valid_rows
    assert out[6] == "1234.12345678901234567890"


@pytest.mark.parametrize(
    "value",
    [
        "1.123456789012345678901x",
        ".123456789012345678901",
        "1,123456789012345678901",
        "1.123456789012345678901e5",
        "1. 123456789012345678901",
        "abc.123456789012345678901",
    ],
)
def test_non_numbers_with_long_fractions_stay_not_a_number(value):
    assert reasons_of(unit_price=value) == ["unit_price: not a number >= 0"]


def test_comma_long_fraction_in_dot_file_is_not_a_number():
    assert reasons_of(unit_cost="6,000000000000000000000") == ["unit_cost: not a number >= 0"]


@pytest.mark.parametrize("value", ["3.000000000000000000000", "3." + "0" * 20000, "0.000000000000000000000"])
def test_quantity_zero_fraction_longer_than_twenty_places_rejected(value):
    assert reasons_of(quantity_sold=value) == ["quantity_sold: more than 20 decimal places"]


def test_quantity_with_twenty_zero_places_is_whole():
    [out] = check(row(quantity_sold="3.00000000000000000000")).valid_rows
    assert out[5] == "3"


def test_quantity_long_nonzero_fraction_is_not_whole():
    assert reasons_of(quantity_sold="3.00000000000000000001") == ["quantity_sold: not a whole number >= 1"]


def test_semicolon_file_quantity_long_zero_fraction_rejected():
    result = check(row(quantity_sold="3,000000000000000000000", unit_price="10,00", **COMMA_BASE), comma=True)
    assert [r.reasons for r in result.rejected] == [["quantity_sold: more than 20 decimal places"]]
