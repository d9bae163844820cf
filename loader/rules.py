"""Every row rule of a sales file, written once, in two tables: `COLUMN_RULES` (one rule per
column) and `CROSS_RULES` (rules between columns).

Each kind of rule knows how to check one text value (`check`: exact, row by row; the
reference and the pydantic `SaleRow` contract are built on it) and a whole Arrow column
(`check_array`: pyarrow.compute + numpy, what the loader runs). The two sit side by side in
one class, so adding a rule is one entry in a table and changing a kind is one edit in one
place; the unit tests (hypothesis) require both to give the same verdicts and reasons.

Interpretations (marked *), kept stable because reasons land in `raw.sales_rejected`:

- Text is stored exactly as sent; "empty" means made only of whitespace (ASCII, Unicode
  spaces such as NBSP/U+3000, U+2028/U+2029) and invisible format characters (zero-width
  space/joiners, word joiner, BOM), see `BLANK_CHARS`*; a value merely containing them among
  visible characters is kept as sent. Empty optional text and dates are NULL.
- Dates are YYYY-MM-DD, real calendar days, year 0001-9999*; spaces/tabs around are dropped*.
  Optional dates may be empty (NULL) but not before sale_date.
- Numbers: digits with an optional fraction, at most 15 integer digits*, at most 20
  (MAX_DECIMAL_PLACES) fractional digits* ("<col>: more than 20 decimal places"; PostgreSQL
  numeric holds 16,383, and 20 still takes spreadsheet formula results and float reprs such
  as "0.30000000000000004"), no exponent, NaN or infinity*, no sign except gross_profit. In a
  ","-file the decimal mark is "." and there are no thousands separators*; in a ";"-file
  (pt-BR export) the mark is "," and "." may group thousands by 3 ("1.234,56"), so "12.50" is
  not a number there*. Stored normalized ("1.234,56" -> "1234.56"), digits otherwise as sent,
  so money round-trips exactly.
- quantity_sold is a whole number 1..2147483647 (PostgreSQL integer)*; "3,0" is stored "3";
  its zero fraction has the same 20-digit limit ("3." + 21 zeros: more than 20 decimal places)*.
- An empty discount is 0*. Statuses match exactly, case-sensitively, untrimmed*.
- Cross-field rules run only when all their inputs are valid*. Totals must agree within
  0.01; floats decide the clear cases and values within float error of 0.01 are decided
  again with exact fractions (by the row-wise `check`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salespipe.contract import DELIVERY_STATUSES, PAYMENT_STATUSES, RAW_SALES_COLUMNS

MAX_QUANTITY = 2_147_483_647
# PostgreSQL numeric holds 16,383. Exports carry computed values ("3.33333333333333" from Excel,
# "0.30000000000000004" from pandas): Python's repr of any float >= 1e-4 written without an
# exponent has at most 20 fractional digits (0.00012345678901234568), so 20 keeps all of them.
MAX_DECIMAL_PLACES = 20
TOLERANCE = Fraction(1, 100)

# Patterns without anchors: Python uses fullmatch, RE2 (pyarrow) gets ^(...)$. No \d, \s or
# \uXXXX escapes, since they differ between the two engines: non-ASCII characters are put in
# classes literally (both engines read literal UTF-8 there).
_SP = "[ \t]*"
# What an "empty" value may consist of: ASCII whitespace, Unicode spaces (NBSP, ogham space,
# en quad..hair space, line/paragraph separators, narrow NBSP, medium math space, ideographic
# space) and invisible format characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM/ZWNBSP).
BLANK_CHARS = (
    " \t\r\n\f\v"
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff"
)
BLANK = "[" + BLANK_CHARS + "]*"
_DATE = _SP + "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])" + _SP
_DOT_INT = "[0-9]{1,15}"
_COMMA_INT = "([0-9]{1,15}|[0-9]{1,3}([.][0-9]{3}){1,4})"
# Searched (unanchored) in text that has the number form: a decimal mark followed by more than
# MAX_DECIMAL_PLACES digits. In a ;-file "." only groups thousands by 3, so "," is the mark.
_LONG_FRACTION = {
    False: f"[.][0-9]{{{MAX_DECIMAL_PLACES + 1}}}",
    True: f",[0-9]{{{MAX_DECIMAL_PLACES + 1}}}",
}


def number_pattern(decimal_comma: bool, *, signed: bool = False, whole: bool = False) -> str:
    integer, mark = (_COMMA_INT, ",") if decimal_comma else (_DOT_INT, "[.]")
    fraction = f"({mark}0+)?" if whole else f"({mark}[0-9]+)?"
    return _SP + ("-?" if signed else "") + integer + fraction + _SP


def normalize_number(text: str, decimal_comma: bool) -> str:
    """'1.234,56' -> '1234.56' in a ;-file; trims spaces/tabs. Only for pattern-checked text."""
    text = text.strip(" \t")
    return text.replace(".", "").replace(",", ".") if decimal_comma else text


def is_blank(text: str) -> bool:
    return re.fullmatch(BLANK, text) is not None


def decimal_places(normalized: str) -> int:
    """Fractional digits of a pattern-checked number already through `normalize_number`."""
    return len(normalized.partition(".")[2])


# -- reasons (stable texts: they land in raw.sales_rejected.reasons) ---------------------------


def reason_empty(col: str) -> str:
    return f"{col}: empty"


def reason_date(col: str) -> str:
    return f"{col}: not a date (YYYY-MM-DD)"


def reason_before_sale(col: str) -> str:
    return f"{col}: before sale_date"


def reason_money(col: str) -> str:
    return f"{col}: not a number >= 0"


def reason_decimal_places(col: str) -> str:
    return f"{col}: more than {MAX_DECIMAL_PLACES} decimal places"


def reason_one_of(col: str, values: tuple[str, ...]) -> str:
    return f"{col}: not one of " + ", ".join(values)


REASON_QUANTITY = "quantity_sold: not a whole number >= 1"
REASON_QUANTITY_RANGE = f"quantity_sold: larger than {MAX_QUANTITY}"
REASON_DISCOUNT = "discount: not a number between 0 and 100"
REASON_PROFIT = "gross_profit: not a number"
REASON_TOTAL_VALUE = (
    "total_value: differs from quantity_sold * unit_price * (1 - discount/100) by more than 0.01"
)
REASON_TOTAL_COST = "total_cost: differs from quantity_sold * unit_cost by more than 0.01"
REASON_GROSS_PROFIT = "gross_profit: differs from total_value - total_cost by more than 0.01"


# -- what a check returns -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value checked: its reason (None when valid), the text to store (None = NULL) and
    the typed value later rules and the `SaleRow` contract use (None when absent or invalid)."""

    reason: str | None
    stored: str | None = None
    value: Any = None


@dataclass
class Cells:
    """A column checked as a whole: failure masks with their reasons (in reason order), where
    a typed value is usable by cross-field rules, the text to store, and numbers as floats."""

    failures: list[tuple[np.ndarray, str]]
    usable: np.ndarray
    stored: pa.Array
    numbers: np.ndarray | None = field(default=None)


def blank_mask(arr: pa.Array) -> np.ndarray:
    """Where a value is made only of BLANK_CHARS: nothing is left once they are trimmed from
    its start. Same verdict as the BLANK regex, at a third of its cost (Arrow's trim stops at
    the first visible character)."""
    left = pc.binary_length(pc.utf8_ltrim(arr, BLANK_CHARS))
    return pc.equal(left, 0).to_numpy(zero_copy_only=False)


def _long_fraction(arr: pa.Array, form: np.ndarray, comma: bool) -> np.ndarray:
    """Numbers of the right form with more than MAX_DECIMAL_PLACES fractional digits. Such a
    value is longer than MAX_DECIMAL_PLACES + 1 bytes, so the regex search runs only when a
    value that long is in the chunk (almost never): it cost as much as the form check."""
    if len(arr) == 0 or pc.max(pc.binary_length(arr)).as_py() <= MAX_DECIMAL_PLACES + 1:
        return np.zeros(len(arr), dtype=bool)
    return form & _search(arr, _LONG_FRACTION[comma])


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, "^(" + pattern + ")$").to_numpy(zero_copy_only=False)


def _search(arr: pa.Array, pattern: str) -> np.ndarray:
    """Where `pattern` occurs anywhere in the text (RE2 search: linear in the text)."""
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)


def _floats(text: pa.Array, ok: np.ndarray) -> np.ndarray:
    """Float values of pattern-checked, normalized text (0 where not ok)."""
    usable = text if ok.all() else pc.if_else(pa.array(ok), text, "0")
    return pc.cast(usable, pa.float64()).to_numpy(zero_copy_only=False)


def _null_where(blank: np.ndarray, arr: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), arr) if blank.any() else arr


def _normalized(arr: pa.Array, comma: bool) -> pa.Array:
    text = pc.utf8_trim(arr, " \t")
    return pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".") if comma else text


# -- kinds of column rules ----------------------------------------------------------------------


class ColumnRule:
    """One kind of rule for one column; subclasses implement both interpreters."""

    python_type: Any = str

    def check(self, col: str, text: str, comma: bool) -> Cell:
        raise NotImplementedError

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        raise NotImplementedError


class RequiredText(ColumnRule):
    def check(self, col: str, text: str, comma: bool) -> Cell:
        return Cell(reason_empty(col)) if is_blank(text) else Cell(None, text, text)

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        blank = blank_mask(arr)
        return Cells([(blank, reason_empty(col))], ~blank, arr)


class OptionalText(ColumnRule):
    python_type = str | None

    def check(self, col: str, text: str, comma: bool) -> Cell:
        return Cell(None) if is_blank(text) else Cell(None, text, text)

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        blank = blank_mask(arr)
        return Cells([], ~blank, _null_where(blank, arr))


class OneOf(ColumnRule):
    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values

    def check(self, col: str, text: str, comma: bool) -> Cell:
        return Cell(None, text, text) if text in self.values else Cell(reason_one_of(col, self.values))

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        ok = pc.is_in(arr, pa.array(self.values)).to_numpy(zero_copy_only=False)
        return Cells([(~ok, reason_one_of(col, self.values))], ok, arr)


class Day(ColumnRule):
    """A calendar date; `optional` ones may be empty (stored NULL)."""

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional
        self.python_type = date | None if optional else date

    def check(self, col: str, text: str, comma: bool) -> Cell:
        if self.optional and is_blank(text):
            return Cell(None)
        if re.fullmatch(_DATE, text):
            try:
                day = date.fromisoformat(text.strip(" \t"))
            except ValueError:
                pass
            else:
                return Cell(None, day.isoformat(), day)
        return Cell(reason_date(col))

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        trimmed = pc.utf8_trim(arr, " \t")
        # An optional day left empty (or spaces and tabs only) is blank: skipped by the cast.
        empty = _empty(trimmed) if self.optional else None
        days = _cast_days(trimmed, empty)
        if days is not None:  # every other value has the form: no regex needed
            form = np.ones(len(arr), dtype=bool) if empty is None else ~empty
            blank = empty
        else:
            form = _match(arr, _DATE)
            days = _days_of_form(trimmed, form)
            blank = None
        ok = form & (days >= _DAY_ONE)  # Arrow reads year 0000; Python and the rule do not
        days = np.where(ok, days, 0)
        if not self.optional:
            return Cells([(~ok, reason_date(col))], ok, trimmed, days.astype(np.float64))
        if blank is None:
            blank = blank_mask(arr) if not form.all() else np.zeros(len(arr), dtype=bool)
        return Cells(
            [(~blank & ~ok, reason_date(col))],
            ok,
            _null_where(blank, trimmed),
            days.astype(np.float64),
        )


def _empty(trimmed: pa.Array) -> np.ndarray | None:
    """Where a value trimmed of spaces and tabs is empty; None when no value is."""
    empty = pc.equal(pc.binary_length(trimmed), 0).to_numpy(zero_copy_only=False)
    return empty if empty.any() else None


_DAY_ONE = (date(1, 1, 1) - date(1970, 1, 1)).days


def _cast_days(text: pa.Array, skip: np.ndarray | None = None) -> np.ndarray | None:
    """Days since 1970-01-01 when every value (but those `skip` marks, which read 0) is a real
    day of the YYYY-MM-DD form, else None. Arrow's cast accepts exactly 10 characters, 4-2-2
    ASCII digits between "-", a month 01-12 and a day of that month, so where it succeeds
    the `_DATE` form holds and its regex can be skipped: the day check then took 0.15 ms per
    10,000 days instead of 0.48 ms, and 0.25 ms instead of 1.1-1.5 ms for an optional day
    column with blanks (payment_date, delivery_date)."""
    if skip is not None:
        text = pc.if_else(pa.array(skip), pa.scalar(None, pa.string()), text)
    try:
        days = pc.cast(pc.cast(text, pa.date32()), pa.int32())
    except pa.ArrowInvalid:
        return None
    return (days if skip is None else pc.fill_null(days, 0)).to_numpy()


def _days_of_form(trimmed: pa.Array, form: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 where `trimmed` (of the YYYY-MM-DD form) is a real calendar day,
    else _DAY_ONE - 1, for a column whose whole cast failed (`_cast_days`). Values without
    the form are masked and the cast is tried again; when it still fails, an impossible day
    (2023-02-29) is among them, found from the year, month and day. Per 10,000 days the
    cast takes about 0.08 ms and reading year, month and day 0.6 ms."""
    none = _DAY_ONE - 1
    text = trimmed if form.all() else pc.if_else(pa.array(form), trimmed, "1970-01-01")
    days = None if form.all() else _cast_days(text)  # all of the form: cast failed already
    if days is None:
        y = pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.int32()).to_numpy()
        m = pc.cast(pc.utf8_slice_codeunits(text, 5, 7), pa.int32()).to_numpy()
        d = pc.cast(pc.utf8_slice_codeunits(text, 8, 10), pa.int32()).to_numpy()
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m] + (leap & (m == 2))
        real = d <= month_days
        days = _cast_days(pc.if_else(pa.array(real), text, "1970-01-01"))
        assert days is not None  # every value left is a real day of the form
        days = np.where(real, days, none)
    return np.where(form, days, none)


class WholeNumber(ColumnRule):
    """quantity_sold: 1..MAX_QUANTITY; "3.0" passes and is stored "3", "3." + 21 zeros (a zero
    fraction longer than MAX_DECIMAL_PLACES) is "more than 20 decimal places" like any number."""

    python_type = int

    def check(self, col: str, text: str, comma: bool) -> Cell:
        if not re.fullmatch(number_pattern(comma, whole=True), text):
            return Cell(REASON_QUANTITY)
        normalized = normalize_number(text, comma)
        if decimal_places(normalized) > MAX_DECIMAL_PLACES:
            return Cell(reason_decimal_places(col))
        q = int(Fraction(normalized))
        if q < 1:
            return Cell(REASON_QUANTITY)
        if q > MAX_QUANTITY:
            return Cell(REASON_QUANTITY_RANGE)
        return Cell(None, str(q), q)

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        if _plain_digits(arr):  # the common case: the form holds, nothing to normalize
            form = fits = np.ones(len(arr), dtype=bool)
            long = np.zeros(len(arr), dtype=bool)
            q_int = pc.cast(arr, pa.int64())
            stored = arr if not pc.any(pc.starts_with(arr, "0")).as_py() else None
        else:
            form = _match(arr, number_pattern(comma, whole=True))
            long = _long_fraction(arr, form, comma)
            fits = form & ~long
            text = pc.replace_substring_regex(_normalized(arr, comma), r"\.0+$", "")
            q_int = pc.cast(pc.if_else(pa.array(fits), text, "0"), pa.int64())
            stored = None
        q = q_int.to_numpy()
        failures = [
            (~form | (fits & (q < 1)), REASON_QUANTITY),
            (long, reason_decimal_places(col)),
            (fits & (q > MAX_QUANTITY), REASON_QUANTITY_RANGE),
        ]
        usable = fits & (q >= 1) & (q <= MAX_QUANTITY)
        if stored is None:
            stored = pc.cast(q_int, pa.string())
        return Cells(failures, usable, stored, q.astype(np.float64))


def _plain_digits(arr: pa.Array) -> bool:
    """Whether every value is 1 to 15 ASCII digits (`_DOT_INT`, in either kind of file), so
    the whole-number form holds without its regex, and Arrow's int64 cast reads each value
    exactly. Per 10,000 quantities the check then took 0.12 ms instead of 0.97 ms."""
    return (len(arr) > 0 and pc.all(pc.ascii_is_decimal(arr)).as_py()
            and pc.max(pc.binary_length(arr)).as_py() <= 15)


class Number(ColumnRule):
    """A decimal number, stored normalized: `signed` allows a minus, `maximum` caps it
    (inclusive), `empty_as` gives an empty value a default instead of rejecting it."""

    python_type = Decimal

    def __init__(
        self,
        reason: str | None = None,
        *,
        signed: bool = False,
        maximum: int | None = None,
        empty_as: str | None = None,
    ) -> None:
        self.reason, self.signed, self.maximum, self.empty_as = reason, signed, maximum, empty_as

    def _reason(self, col: str) -> str:
        return self.reason or reason_money(col)

    def check(self, col: str, text: str, comma: bool) -> Cell:
        if self.empty_as is not None and is_blank(text):
            return Cell(None, self.empty_as, Decimal(self.empty_as))
        if not re.fullmatch(number_pattern(comma, signed=self.signed), text):
            return Cell(self._reason(col))
        stored = normalize_number(text, comma)
        if decimal_places(stored) > MAX_DECIMAL_PLACES:
            return Cell(reason_decimal_places(col))
        if self.maximum is not None and Fraction(stored) > self.maximum:
            return Cell(self._reason(col))
        return Cell(None, stored, Decimal(stored))

    def check_array(self, col: str, arr: pa.Array, comma: bool) -> Cells:
        form = _match(arr, number_pattern(comma, signed=self.signed))
        long = _long_fraction(arr, form, comma)
        fits = form & ~long
        text = _normalized(arr, comma)
        numbers = _floats(text, fits)
        ok = fits
        if self.maximum is not None:
            over = fits & (numbers >= self.maximum)
            # A value above the maximum by less than float precision is decided exactly.
            for i in np.flatnonzero(over & (numbers == self.maximum)):
                over[i] = Fraction(text[int(i)].as_py()) > self.maximum
            ok = fits & ~over
        if self.empty_as is not None:
            blank = blank_mask(arr) if not form.all() else np.zeros(len(arr), dtype=bool)
            ok = ok | blank
            text = pc.if_else(pa.array(blank), self.empty_as, text)
            numbers = np.where(blank, float(self.empty_as), numbers)
        failures = [(~ok & ~long, self._reason(col)), (long, reason_decimal_places(col))]
        return Cells(failures, ok, text, numbers)


# -- rules between columns --------------------------------------------------------------------


class CrossRule:
    """A rule between columns, checked only where its inputs are usable."""

    columns: tuple[str, ...]
    reason: str

    def fails(self, values: Mapping[str, Any]) -> bool:
        """Exact verdict on the typed values of one row (all present)."""
        raise NotImplementedError

    def fails_array(self, cells: Mapping[str, Cells], exact: Callable[[int], bool]) -> np.ndarray:
        """Verdicts for a chunk; `exact(i)` decides row i exactly where floats cannot."""
        raise NotImplementedError

    def fails_on_text(self, texts: Mapping[str, str], comma: bool) -> bool:
        """Exact verdict on one row's text (its inputs already known to be valid)."""
        return self.fails({c: COLUMN_RULES[c].check(c, texts[c], comma).value for c in self.columns})

    def applies(self, cells: Mapping[str, Cells]) -> np.ndarray:
        usable = cells[self.columns[0]].usable.copy()
        for col in self.columns[1:]:
            usable &= cells[col].usable
        return usable


class NotBefore(CrossRule):
    def __init__(self, col: str, earliest: str = "sale_date") -> None:
        self.columns, self.reason = (col, earliest), reason_before_sale(col)

    def fails(self, values: Mapping[str, Any]) -> bool:
        return bool(values[self.columns[0]] < values[self.columns[1]])

    def fails_array(self, cells: Mapping[str, Cells], exact: Callable[[int], bool]) -> np.ndarray:
        col, earliest = self.columns
        return self.applies(cells) & (cells[col].numbers < cells[earliest].numbers)  # type: ignore[operator]


class AgreesWith(CrossRule):
    """`target` must equal `expected(*inputs)` within TOLERANCE. `scale(*inputs)` bounds the
    size of the intermediate values, which bounds the float error of the fast path."""

    def __init__(
        self,
        target: str,
        inputs: tuple[str, ...],
        expected: Callable[..., Any],
        scale: Callable[..., Any],
        reason: str,
    ) -> None:
        self.columns = (target, *inputs)
        self.target, self.inputs, self.expected, self.scale = target, inputs, expected, scale
        self.reason = reason

    def fails(self, values: Mapping[str, Any]) -> bool:
        args = [Fraction(values[c]) for c in self.inputs]
        return abs(Fraction(values[self.target]) - self.expected(*args)) > TOLERANCE

    def fails_array(self, cells: Mapping[str, Cells], exact: Callable[[int], bool]) -> np.ndarray:
        applies = self.applies(cells)
        args = [cells[c].numbers for c in self.inputs]
        actual = cells[self.target].numbers
        err = np.abs(actual - self.expected(*args))  # type: ignore[operator]
        magnitude = np.maximum(np.abs(actual), np.abs(self.scale(*args)))  # type: ignore[arg-type]
        failed = applies & (err > 0.01)
        # Float error here is far below 1e-6 + 1e-13 * magnitude; outside that band the float
        # verdict equals the exact one.
        for i in np.flatnonzero(applies & (np.abs(err - 0.01) <= 1e-6 + 1e-13 * magnitude)):
            failed[i] = exact(int(i))
        return failed


# -- the tables ---------------------------------------------------------------------------------

COLUMN_RULES: dict[str, ColumnRule] = {
    "sale_date": Day(),
    "sale_id": RequiredText(),
    "product_id": RequiredText(),
    "product_name": RequiredText(),
    "product_category": RequiredText(),
    "quantity_sold": WholeNumber(),
    "unit_price": Number(),
    "discount": Number(REASON_DISCOUNT, maximum=100, empty_as="0"),
    "total_value": Number(),
    "unit_cost": Number(),
    "total_cost": Number(),
    "gross_profit": Number(REASON_PROFIT, signed=True),
    "payment_method": RequiredText(),
    "payment_status": OneOf(PAYMENT_STATUSES),
    "payment_date": Day(optional=True),
    "customer_id": RequiredText(),
    "customer_name": RequiredText(),
    "sales_channel": RequiredText(),
    "sales_region": RequiredText(),
    "sales_rep": RequiredText(),
    "customer_rating": OptionalText(),
    "shipping_cost": Number(),
    "delivery_status": OneOf(DELIVERY_STATUSES),
    "delivery_date": Day(optional=True),
}
assert tuple(COLUMN_RULES) == RAW_SALES_COLUMNS, "one rule per raw.sales column, in order"

CROSS_RULES: tuple[CrossRule, ...] = (
    NotBefore("payment_date"),
    NotBefore("delivery_date"),
    AgreesWith(
        "total_value",
        ("quantity_sold", "unit_price", "discount"),
        expected=lambda q, price, discount: q * price * (100 - discount) / 100,
        scale=lambda q, price, discount: q * price,
        reason=REASON_TOTAL_VALUE,
    ),
    AgreesWith(
        "total_cost",
        ("quantity_sold", "unit_cost"),
        expected=lambda q, cost: q * cost,
        scale=lambda q, cost: q * cost,
        reason=REASON_TOTAL_COST,
    ),
    AgreesWith(
        "gross_profit",
        ("total_value", "total_cost"),
        expected=lambda value, cost: value - cost,
        scale=lambda value, cost: abs(value) + abs(cost),
        reason=REASON_GROSS_PROFIT,
    ),
)


def check_row(values: Mapping[str, str], comma: bool) -> tuple[dict[str, Cell], list[str]]:
    """Every column's cell and every reason (field rules, then cross-field rules) of one row."""
    cells = {col: rule.check(col, values[col], comma) for col, rule in COLUMN_RULES.items()}
    reasons = [c.reason for c in cells.values() if c.reason is not None]
    typed = {col: c.value for col, c in cells.items()}
    for rule in CROSS_RULES:
        if all(cells[c].reason is None and typed[c] is not None for c in rule.columns) and rule.fails(typed):
            reasons.append(rule.reason)
    return cells, reasons
