"""loader.rules: the patterns mean the same to Python `re` and to RE2 (pyarrow)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from loader.rules import (
    BLANK,
    BLANK_CHARS,
    MAX_DECIMAL_PLACES,
    blank_mask,
    is_blank,
    reason_decimal_places,
)

# The interpretation, written out by hand: ASCII whitespace, Unicode spaces, zero-width/format.
EXPECTED_BLANK_CHARS = set(
    " \t\r\n\f\v"
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff"
)
# Look alike or sit nearby, but are not in the set.
NOT_BLANK = ["\u0085", "\u180e", "\u00ad", "\u200e", "\u200f", "\u2061", "\u2027", "\u2030", "\x1c",
             "\u1fff", "\u3001", "\ufefe", "\ufeff\ufeffa", "a", "-", "0", "\u00a0x"]  # fmt: skip


MIXED_ALPHABET = sorted(EXPECTED_BLANK_CHARS) + NOT_BLANK[:12] + ["é", "S"]


def re2_blank(values: list[str]) -> list[bool]:
    """BLANK through RE2."""
    return pc.match_substring_regex(pa.array(values, pa.string()), "^(" + BLANK + ")$").to_pylist()


def column_blank(values: list[str]) -> list[bool]:
    """The way the rules check a whole column (trimming BLANK_CHARS, no regex)."""
    return blank_mask(pa.array(values, pa.string())).tolist()


def test_blank_set_is_the_documented_one():
    assert set(BLANK_CHARS) == EXPECTED_BLANK_CHARS
    assert len(BLANK_CHARS) == len(EXPECTED_BLANK_CHARS) == 29
    # Literal characters in the class, no escapes one engine would read differently.
    assert "\\u" not in BLANK and "\\x" not in BLANK and "\\s" not in BLANK


def test_both_engines_agree_on_every_blank_character_and_on_near_misses():
    values = sorted(EXPECTED_BLANK_CHARS) + ["".join(sorted(EXPECTED_BLANK_CHARS)), ""] + NOT_BLANK
    expected = [True] * (len(EXPECTED_BLANK_CHARS) + 2) + [False] * len(NOT_BLANK)
    assert [is_blank(v) for v in values] == expected
    assert re2_blank(values) == expected
    assert column_blank(values) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(MIXED_ALPHABET), max_size=6), min_size=1, max_size=20))
def test_both_engines_agree_on_mixed_text(values):
    expected = [all(c in EXPECTED_BLANK_CHARS for c in v) for v in values]
    assert [is_blank(v) for v in values] == expected
    assert re2_blank(values) == expected
    assert column_blank(values) == expected


def test_decimal_places_reason_is_built_from_the_constant():
    assert MAX_DECIMAL_PLACES == 20
    assert reason_decimal_places("unit_price") == "unit_price: more than 20 decimal places"


def _day_verdicts(values: list[str], optional: bool = False) -> tuple[list[bool], list[float]]:
    from loader.rules import Day

    cells = Day(optional=optional).check_array("sale_date", pa.array(values, pa.string()), False)
    return cells.usable.tolist(), cells.numbers.tolist()


def test_days_are_read_the_same_whether_or_not_the_chunk_holds_an_impossible_day():
    # All real days: one cast of the whole column. With 2023-02-29 in it: the cast fails and
    # the column is read again with that day masked. Year 0000 Arrow reads, the rule does not.
    real = ["2024-02-29", " 2023-12-31\t", "0001-01-01", "9999-12-31"]
    expected = [(date.fromisoformat(v.strip()) - date(1970, 1, 1)).days for v in real]
    for extra in ([], ["2023-02-29"], ["0000-01-01"], ["2024-13-01", "2023-02-29"]):
        usable, numbers = _day_verdicts(real + extra)
        assert usable == [True] * len(real) + [False] * len(extra)
        assert numbers[: len(real)] == expected


def test_an_optional_day_column_without_blanks_or_with_them():
    assert _day_verdicts(["2024-01-02", "2024-01-03"], optional=True)[0] == [True, True]
    usable, _ = _day_verdicts(["2024-01-02", "\u200b", "", "2023-02-29"], optional=True)
    assert usable == [True, False, False, False]


def test_a_long_fraction_is_found_in_a_column_of_short_numbers_and_only_there():
    from loader.rules import Number

    long_value = "1." + "0" * (MAX_DECIMAL_PLACES + 1)
    ok_value = "1." + "0" * MAX_DECIMAL_PLACES
    for values, long_at in ((["1.5", "2"], []), (["1.5", long_value, ok_value], [1])):
        cells = Number().check_array("unit_price", pa.array(values, pa.string()), False)
        failures = dict((reason, mask.tolist()) for mask, reason in cells.failures)
        assert [i for i, f in enumerate(failures[reason_decimal_places("unit_price")]) if f] == long_at


NEAR_DAYS = ["2027-1-01", "+2027-01-01", "2027-01-01T00:00", "２０２７-01-01", "2027/01/01",
             "20270101", "2027-00-10", "2027-01-00", "-027-01-01", "2027-01-01Z", "2027-01-+1",
             "2027- 1-01", "2027-01- 1", "1e10-01-01", "2027-01-011", "99999-01-01",
             "2027-01-01\u200b", "2027-01", "0000-01-01", "2023-02-29", " 2027-01-01 ", "\t2024-02-29"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.dates(), st.sampled_from(["", " ", "\t", "  "])), min_size=1,
                max_size=20),
       st.sampled_from([None, *NEAR_DAYS]))
def test_a_day_column_agrees_with_the_day_rule_value_by_value(days, odd):
    # A column of real days is read by one date cast and no regex; one odd value sends the
    # column down the regex path. Either way each verdict is the single-value rule's.
    from loader.rules import Day

    values = [pad + d.isoformat() + pad for d, pad in days] + ([odd] if odd is not None else [])
    cells = Day().check_array("sale_date", pa.array(values, pa.string()), False)
    expected = [Day().check("sale_date", v, False) for v in values]
    assert cells.usable.tolist() == [e.reason is None for e in expected]
    assert [n for n, e in zip(cells.numbers.tolist(), expected, strict=True) if e.reason is None] == [
        (e.value - date(1970, 1, 1)).days for e in expected if e.reason is None]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.dates().map(date.isoformat),
                          st.sampled_from(["", " ", "\t", " \t ", "\u200b", "\u00a0", " x"])),
                min_size=1, max_size=20),
       st.sampled_from([None, *NEAR_DAYS]))
def test_an_optional_day_column_agrees_with_the_day_rule_value_by_value(values, odd):
    # Blanks of spaces and tabs are skipped by the one date cast; any other blank or odd value
    # sends the column down the regex path. Either way verdict, NULL and text are the rule's.
    from loader.rules import Day

    values = values + ([odd] if odd is not None else [])
    rule = Day(optional=True)
    cells = rule.check_array("payment_date", pa.array(values, pa.string()), False)
    expected = [rule.check("payment_date", v, False) for v in values]
    failed = np.zeros(len(values), dtype=bool)
    for mask, _ in cells.failures:
        failed |= mask
    assert failed.tolist() == [e.reason is not None for e in expected]
    assert cells.usable.tolist() == [e.value is not None for e in expected]
    assert [s for s, e in zip(cells.stored.to_pylist(), expected, strict=True)
            if e.reason is None] == [e.stored for e in expected if e.reason is None]


NEAR_QUANTITIES = ["+5", "0x10", "0X1F", " 5", "5 ", "5.0", "5,0", "3.", "-5", "-0", "٣", "５", "",
                   "1e3", "0000000000000001", "999999999999999", "2147483648", "1_000", "1.000"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**15 - 1), st.sampled_from(["", "0", "000"])),
                min_size=1, max_size=20),
       st.sampled_from([None, *NEAR_QUANTITIES]), st.booleans())
def test_a_quantity_column_agrees_with_the_whole_number_rule_value_by_value(numbers, odd, comma):
    # A column of plain digits is read by one integer cast and no regex; one odd value sends
    # the column down the regex path. Either way reasons and stored text are the rule's.
    from loader.rules import WholeNumber

    values = [zeros + str(n) for n, zeros in numbers] + ([odd] if odd is not None else [])
    rule = WholeNumber()
    cells = rule.check_array("quantity_sold", pa.array(values, pa.string()), comma)
    expected = [rule.check("quantity_sold", v, comma) for v in values]
    reasons: list[list[str]] = [[] for _ in values]
    for mask, reason in cells.failures:
        for i in np.flatnonzero(mask):
            reasons[i].append(reason)
    assert reasons == [[e.reason] if e.reason else [] for e in expected]
    assert [s for s, e in zip(cells.stored.to_pylist(), expected, strict=True)
            if e.reason is None] == [e.stored for e in expected if e.reason is None]
