"""loader.rules: the patterns mean the same to Python `re` and to RE2 (pyarrow)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from loader.rules import BLANK, BLANK_CHARS, MAX_DECIMAL_PLACES, is_blank, reason_decimal_places

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
    """BLANK through RE2, the way the rules run it on a column."""
    return pc.match_substring_regex(pa.array(values, pa.string()), "^(" + BLANK + ")$").to_pylist()


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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(MIXED_ALPHABET), max_size=6), min_size=1, max_size=20))
def test_both_engines_agree_on_mixed_text(values):
    expected = [all(c in EXPECTED_BLANK_CHARS for c in v) for v in values]
    assert [is_blank(v) for v in values] == expected
    assert re2_blank(values) == expected


def test_decimal_places_reason_is_built_from_the_constant():
    assert MAX_DECIMAL_PLACES == 20
    assert reason_decimal_places("unit_price") == "unit_price: more than 20 decimal places"
