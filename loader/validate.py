"""Rows -> valid rows ready for COPY, and rejected rows with every reason that applies (pure).

The row contract is the pydantic model `SaleRow`; `validate_chunk` enforces the same rules
column-wise with pyarrow.compute and numpy.

Trade-off: pydantic per row validates ~100 k rows/s here (~180 k with the GC paused), below
the ~200 k rows/s single-threaded that parse + validate needs for the loader's 100 k rows/s
on 2 cores. The vectorized path checks a 50,000-row chunk in a few tens of milliseconds. So
`SaleRow` is the documented contract and the reference implementation
(`validate_chunk_reference`, same signature and output): the unit tests run both over
generated rows (hypothesis) and require the same verdicts and reasons, and the reference can
be swapped in when a verdict is in doubt. Shared between the two: the regular expressions
(RE2 and `re` agree on the ASCII-only subset used here), the reason texts and the exact
arithmetic for borderline tolerance checks.

Rules as implemented (the interpretations are marked *):

- Text columns are stored exactly as sent; "non-empty" means not only ASCII whitespace*.
- Dates are YYYY-MM-DD, real calendar days, year 0001-9999*; surrounding spaces/tabs are
  tolerated and dropped* (typed values are normalized anyway). payment_date and
  delivery_date may be empty (-> NULL) but not before sale_date.
- Numbers: digits with an optional fraction, at most 15 integer digits*, no sign (except
  gross_profit), no exponent, NaN or infinity*. In a ","-file the decimal mark is "." and
  there are no thousands separators*; in a ";"-file the decimal mark is "," and "." may
  separate thousands in groups of 3 ("1.234,56"), so "12.50" is not a number there*.
  Stored normalized ("1.234,56" -> "1234.56"), digits otherwise as sent (trailing zeros
  kept), so money round-trips exactly; floats only feed the 0.01 tolerance checks, and
  results within 1e-6 of the tolerance are decided again with exact fractions.
- quantity_sold: a whole number 1..2147483647 (PostgreSQL integer)*; "3.0" / "3,0" pass and
  are stored as "3".
- discount: empty (stored "0") or 0..100. customer_rating: free text, empty -> NULL*.
- Statuses match exactly, case-sensitively, untrimmed*.
- Arithmetic checks run only when all their inputs are valid numbers*.
- Duplicates: only a valid row claims its sale_id (the text exactly as sent)*; any later row
  with a claimed id gets "sale_id: duplicate in file (first at row N)", in addition to its
  other reasons. `seen_sale_ids` (sale_id -> row number) carries the claims across chunks.
- A record with the wrong number of fields is rejected with only "row has N fields, header
  has M"*; its values are keyed by header position (snake name, or the header cell for an
  extra column) plus `_extra_<k>` for fields beyond the header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from loader.columns import RAW_SALES_COLUMNS, column_for_header
from loader.parse import Chunk

REQUIRED_TEXT = (
    "sale_id", "product_id", "product_name", "product_category", "payment_method",
    "customer_id", "customer_name", "sales_channel", "sales_region", "sales_rep",
)  # fmt: skip
MONEY = ("unit_price", "total_value", "unit_cost", "total_cost", "shipping_cost")
OPTIONAL_DATES = ("payment_date", "delivery_date")
PAYMENT_STATUSES = ("Paid", "Pending", "Canceled")
DELIVERY_STATUSES = ("Delivered", "In Transit", "Canceled")
MAX_QUANTITY = 2_147_483_647
TOLERANCE = Fraction(1, 100)

# Patterns without anchors: Python uses fullmatch, RE2 gets ^...$. ASCII classes only, since
# \d and \s differ between the two engines.
_SP = "[ \t]*"
_BLANK = "[ \t\r\n\f\v]*"
_DATE = _SP + "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])" + _SP
_DOT_INT = "[0-9]{1,15}"
_COMMA_INT = "([0-9]{1,15}|[0-9]{1,3}([.][0-9]{3}){1,4})"


def number_pattern(decimal_comma: bool, *, signed: bool = False, whole: bool = False) -> str:
    """The text a number field may hold (unanchored; RE2 and `re` agree on it)."""
    integer, mark = (_COMMA_INT, ",") if decimal_comma else (_DOT_INT, "[.]")
    fraction = f"({mark}0+)?" if whole else f"({mark}[0-9]+)?"
    return _SP + ("-?" if signed else "") + integer + fraction + _SP


# -- reasons (stable texts: they land in raw.sales_rejected.reasons) ---------------------------


def reason_empty(col: str) -> str:
    return f"{col}: empty"


def reason_date(col: str) -> str:
    return f"{col}: not a date (YYYY-MM-DD)"


def reason_before_sale(col: str) -> str:
    return f"{col}: before sale_date"


def reason_money(col: str) -> str:
    return f"{col}: not a number >= 0"


REASON_QUANTITY = "quantity_sold: not a whole number >= 1"
REASON_QUANTITY_RANGE = f"quantity_sold: larger than {MAX_QUANTITY}"
REASON_DISCOUNT = "discount: not a number between 0 and 100"
REASON_PROFIT = "gross_profit: not a number"
REASON_PAYMENT_STATUS = "payment_status: not one of " + ", ".join(PAYMENT_STATUSES)
REASON_DELIVERY_STATUS = "delivery_status: not one of " + ", ".join(DELIVERY_STATUSES)
REASON_TOTAL_VALUE = (
    "total_value: differs from quantity_sold * unit_price * (1 - discount/100) by more than 0.01"
)
REASON_TOTAL_COST = "total_cost: differs from quantity_sold * unit_cost by more than 0.01"
REASON_GROSS_PROFIT = "gross_profit: differs from total_value - total_cost by more than 0.01"


def reason_duplicate(first_row: int | None) -> str:
    where = f" (first at row {first_row})" if first_row is not None else ""
    return f"sale_id: duplicate in file{where}"


def reason_malformed(n_fields: int, n_header: int) -> str:
    return f"row has {n_fields} fields, header has {n_header}"


# -- results -----------------------------------------------------------------------------------


@dataclass
class Rejected:
    row_number: int
    values: dict[str, str]
    reasons: list[str]


VALID_SCHEMA = pa.schema(
    [pa.field("row_number", pa.int64(), nullable=False)]
    + [pa.field(c, pa.string()) for c in RAW_SALES_COLUMNS]
)


@dataclass
class ValidationResult:
    """Valid rows as one Arrow table (row_number + the raw.sales columns as normalized text,
    NULL where empty) so they reach COPY without becoming Python objects; rejected rows with
    their reasons."""

    valid: pa.Table = field(default_factory=VALID_SCHEMA.empty_table)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def n_valid(self) -> int:
        return self.valid.num_rows

    @property
    def valid_rows(self) -> list[tuple[str | None, ...]]:
        """The valid rows as Python tuples in RAW_SALES_COLUMNS order (slow; for tests)."""
        return list(zip(*(self.valid.column(c).to_pylist() for c in RAW_SALES_COLUMNS), strict=True))

    @property
    def valid_row_numbers(self) -> list[int]:
        return self.valid.column("row_number").to_pylist()

    @classmethod
    def from_rows(cls, row_numbers: list[int], rows: list[tuple[str | None, ...]],
                  rejected: list[Rejected]) -> ValidationResult:
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in RAW_SALES_COLUMNS]
        arrays = [pa.array(row_numbers, pa.int64())]
        arrays += [pa.array(list(col), pa.string()) for col in columns]
        return cls(pa.Table.from_arrays(arrays, schema=VALID_SCHEMA), rejected)


SeenSaleIds = MutableMapping[str, int] | set[str]


# -- exact helpers shared by both implementations ---------------------------------------------


def normalize_number(text: str, decimal_comma: bool) -> str:
    """'1.234,56' -> '1234.56' in a ;-file; trims spaces/tabs. Only for pattern-checked text."""
    text = text.strip(" \t")
    return text.replace(".", "").replace(",", ".") if decimal_comma else text


def _exact_mismatch(actual: str, expected: Fraction) -> bool:
    return abs(Fraction(actual) - expected) > TOLERANCE


def total_value_expected(q: str, price: str, discount: str) -> Fraction:
    return Fraction(q) * Fraction(price) * (100 - Fraction(discount)) / 100


def _parse_date(text: str) -> date | None:
    if not re.fullmatch(_DATE, text):
        return None
    try:
        return date.fromisoformat(text.strip(" \t"))
    except ValueError:
        return None


# -- the contract: SaleRow (pydantic) and the reference implementation -------------------------


def _err(reason: str) -> PydanticCustomError:
    return PydanticCustomError("sale_row", reason)


def _comma(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("decimal_comma"))


class SaleRow(BaseModel):
    """One valid sales row, typed. Validate the text of a row with
    `SaleRow.model_validate(values, context={"decimal_comma": bool})`; every error message is
    one of the reason texts above."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sale_date: date
    sale_id: str
    product_id: str
    product_name: str
    product_category: str
    quantity_sold: int
    unit_price: Decimal
    discount: Decimal
    total_value: Decimal
    unit_cost: Decimal
    total_cost: Decimal
    gross_profit: Decimal
    payment_method: str
    payment_status: Literal["Paid", "Pending", "Canceled"]
    payment_date: date | None
    customer_id: str
    customer_name: str
    sales_channel: str
    sales_region: str
    sales_rep: str
    customer_rating: str | None
    shipping_cost: Decimal
    delivery_status: Literal["Delivered", "In Transit", "Canceled"]
    delivery_date: date | None

    @field_validator(*REQUIRED_TEXT, mode="before")
    @classmethod
    def _non_empty(cls, v: str, info: ValidationInfo) -> str:
        if re.fullmatch(_BLANK, v):
            raise _err(reason_empty(str(info.field_name)))
        return v

    @field_validator("sale_date", mode="before")
    @classmethod
    def _sale_date(cls, v: str, info: ValidationInfo) -> date:
        parsed = _parse_date(v)
        if parsed is None:
            raise _err(reason_date("sale_date"))
        return parsed

    @field_validator(*OPTIONAL_DATES, mode="before")
    @classmethod
    def _optional_date(cls, v: str, info: ValidationInfo) -> date | None:
        if re.fullmatch(_BLANK, v):
            return None
        parsed = _parse_date(v)
        if parsed is None:
            raise _err(reason_date(str(info.field_name)))
        return parsed

    @field_validator("quantity_sold", mode="before")
    @classmethod
    def _quantity(cls, v: str, info: ValidationInfo) -> int:
        comma = _comma(info)
        if not re.fullmatch(number_pattern(comma, whole=True), v):
            raise _err(REASON_QUANTITY)
        q = int(Fraction(normalize_number(v, comma)))
        if q < 1:
            raise _err(REASON_QUANTITY)
        if q > MAX_QUANTITY:
            raise _err(REASON_QUANTITY_RANGE)
        return q

    @field_validator(*MONEY, mode="before")
    @classmethod
    def _money(cls, v: str, info: ValidationInfo) -> Decimal:
        comma = _comma(info)
        if not re.fullmatch(number_pattern(comma), v):
            raise _err(reason_money(str(info.field_name)))
        return Decimal(normalize_number(v, comma))

    @field_validator("gross_profit", mode="before")
    @classmethod
    def _profit(cls, v: str, info: ValidationInfo) -> Decimal:
        comma = _comma(info)
        if not re.fullmatch(number_pattern(comma, signed=True), v):
            raise _err(REASON_PROFIT)
        return Decimal(normalize_number(v, comma))

    @field_validator("discount", mode="before")
    @classmethod
    def _discount(cls, v: str, info: ValidationInfo) -> Decimal:
        comma = _comma(info)
        if re.fullmatch(_BLANK, v):
            return Decimal(0)
        if not re.fullmatch(number_pattern(comma), v):
            raise _err(REASON_DISCOUNT)
        d = Decimal(normalize_number(v, comma))
        if d > 100:
            raise _err(REASON_DISCOUNT)
        return d

    @field_validator("payment_status", mode="before")
    @classmethod
    def _payment_status(cls, v: str) -> str:
        if v not in PAYMENT_STATUSES:
            raise _err(REASON_PAYMENT_STATUS)
        return v

    @field_validator("delivery_status", mode="before")
    @classmethod
    def _delivery_status(cls, v: str) -> str:
        if v not in DELIVERY_STATUSES:
            raise _err(REASON_DELIVERY_STATUS)
        return v

    @field_validator("customer_rating", mode="before")
    @classmethod
    def _rating(cls, v: str) -> str | None:
        return None if re.fullmatch(_BLANK, v) else v

    @model_validator(mode="wrap")
    @classmethod
    def _every_reason(cls, data: Any, handler: Any, info: ValidationInfo) -> SaleRow:
        """Field errors and cross-field errors together (pydantic alone stops at the first)."""
        errors: list[InitErrorDetails] = []
        row = None
        try:
            row = handler(data)
        except ValidationError as exc:
            errors = [{"type": _err(e["msg"]), "loc": e["loc"], "input": e["input"]} for e in exc.errors()]
        for loc, reason in _cross_field_reasons(data, _comma(info)):
            errors.append({"type": _err(reason), "loc": (loc,), "input": data.get(loc)})
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        assert row is not None
        return row


def _cross_field_reasons(values: Mapping[str, str], comma: bool) -> list[tuple[str, str]]:
    """Rules between fields, checked when their inputs are valid (exact arithmetic)."""
    out: list[tuple[str, str]] = []
    sale = _parse_date(values["sale_date"])
    for col in OPTIONAL_DATES:
        d = _parse_date(values[col])
        if sale is not None and d is not None and d < sale:
            out.append((col, reason_before_sale(col)))

    def num(col: str, *, signed: bool = False) -> str | None:
        v = values[col]
        return normalize_number(v, comma) if re.fullmatch(number_pattern(comma, signed=signed), v) else None

    q = None
    if re.fullmatch(number_pattern(comma, whole=True), values["quantity_sold"]):
        qi = int(Fraction(normalize_number(values["quantity_sold"], comma)))
        q = str(qi) if 1 <= qi <= MAX_QUANTITY else None
    price, tv, cost, tc = num("unit_price"), num("total_value"), num("unit_cost"), num("total_cost")
    gp = num("gross_profit", signed=True)
    d_text = values["discount"]
    d = "0" if re.fullmatch(_BLANK, d_text) else num("discount")
    if d is not None and Fraction(d) > 100:
        d = None
    if q and price and d and tv and _exact_mismatch(tv, total_value_expected(q, price, d)):
        out.append(("total_value", REASON_TOTAL_VALUE))
    if q and cost and tc and _exact_mismatch(tc, Fraction(q) * Fraction(cost)):
        out.append(("total_cost", REASON_TOTAL_COST))
    if tv and tc and gp and _exact_mismatch(gp, Fraction(tv) - Fraction(tc)):
        out.append(("gross_profit", REASON_GROSS_PROFIT))
    return out


def reference_reasons(values: Mapping[str, str], *, decimal_comma: bool) -> list[str]:
    """Every reason `values` (the 24 columns as text) is not a valid row, via `SaleRow`."""
    try:
        SaleRow.model_validate(dict(values), context={"decimal_comma": decimal_comma})
    except ValidationError as exc:
        return [e["msg"] for e in exc.errors()]
    return []


def reference_row(values: Mapping[str, str], *, decimal_comma: bool) -> tuple[str | None, ...]:
    """The COPY tuple for a row `reference_reasons` accepts, built from `SaleRow`."""
    row = SaleRow.model_validate(dict(values), context={"decimal_comma": decimal_comma})
    out: list[str | None] = []
    for col in RAW_SALES_COLUMNS:
        v = getattr(row, col)
        if v is None or isinstance(v, str):
            out.append(v)
        elif isinstance(v, Decimal):
            out.append(normalize_number(values[col], decimal_comma))
        else:
            out.append(v.isoformat() if isinstance(v, date) else str(v))
    if re.fullmatch(_BLANK, values["discount"]):
        out[RAW_SALES_COLUMNS.index("discount")] = "0"
    return tuple(out)


def validate_chunk_reference(
    chunk: Chunk, *, decimal_comma: bool, seen_sale_ids: SeenSaleIds
) -> ValidationResult:
    """`validate_chunk` row by row through `SaleRow`: slow (~50 k rows/s), obviously right."""
    rejected: list[Rejected] = []
    valid_rows: list[tuple[str | None, ...]] = []
    valid_row_numbers: list[int] = []
    for i in range(chunk.n_rows):
        n = chunk.first_row_number + i
        if i in chunk.malformed:
            fields = chunk.malformed[i]
            rejected.append(
                Rejected(
                    n,
                    _malformed_values(fields, chunk.header),
                    [reason_malformed(len(fields), len(chunk.header))],
                )
            )
            continue
        values = {col: chunk.columns[col][i] for col in RAW_SALES_COLUMNS}
        reasons = reference_reasons(values, decimal_comma=decimal_comma)
        sid = values["sale_id"]
        if not re.fullmatch(_BLANK, sid) and sid in seen_sale_ids:
            reasons.append(reason_duplicate(_first_row(seen_sale_ids, sid)))
        if reasons:
            rejected.append(Rejected(n, values, reasons))
        else:
            _claim(seen_sale_ids, sid, n)
            valid_rows.append(reference_row(values, decimal_comma=decimal_comma))
            valid_row_numbers.append(n)
    return ValidationResult.from_rows(valid_row_numbers, valid_rows, rejected)


def _first_row(seen: SeenSaleIds, sid: str) -> int | None:
    return seen[sid] if isinstance(seen, Mapping) else None


def _claim(seen: SeenSaleIds, sid: str, row_number: int) -> None:
    if isinstance(seen, set):
        seen.add(sid)
    else:
        seen[sid] = row_number


def _malformed_values(fields: list[str], header: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pos, value in enumerate(fields):
        if pos < len(header):
            values[column_for_header(header[pos]) or header[pos].strip()] = value
        else:
            values[f"_extra_{pos - len(header) + 1}"] = value
    return values


# -- the fast path ----------------------------------------------------------------------------


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, "^(" + pattern + ")$").to_numpy(zero_copy_only=False)


class _Checks:
    """Failure masks in reason order; reasons are assembled only for failing rows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.items: list[tuple[np.ndarray, str]] = []

    def add(self, failed: np.ndarray, reason: str) -> None:
        if failed.any():
            self.items.append((failed, reason))

    def failed(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for mask, _ in self.items:
            out |= mask
        return out


def _floats(text: pa.Array, ok: np.ndarray) -> np.ndarray:
    """Float values of pattern-checked, normalized text (0 where not ok)."""
    safe = pc.if_else(pa.array(ok), text, "0")
    return pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False)


def _borderline(err: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    # Float error here is far below 1e-6 + 1e-13 * magnitude; outside that band the float
    # verdict equals the exact one.
    return np.abs(err - 0.01) <= 1e-6 + 1e-13 * magnitude


def _tolerance_failures(
    err: np.ndarray, magnitude: np.ndarray, applies: np.ndarray, exact: Any
) -> np.ndarray:
    failed = applies & (err > 0.01)
    for i in np.flatnonzero(applies & _borderline(err, magnitude)):
        failed[i] = exact(int(i))
    return failed


def validate_chunk(chunk: Chunk, *, decimal_comma: bool, seen_sale_ids: SeenSaleIds) -> ValidationResult:
    """Split a chunk into COPY-ready valid rows and rejected rows (see the module docstring).

    `seen_sale_ids` is updated in place: pass the same (preferably a dict) for every chunk of
    one file. len(valid_rows) + len(rejected) == chunk.n_rows.
    """
    n = chunk.n_rows
    if n == 0:
        return ValidationResult()
    cols = chunk.columns
    arrow = chunk.arrow or {}
    arr = {c: arrow[c] if c in arrow else pa.array(cols[c], pa.string()) for c in RAW_SALES_COLUMNS}
    checks = _Checks(n)
    malformed = np.zeros(n, dtype=bool)
    malformed[list(chunk.malformed)] = True
    blank = {
        c: _match(arr[c], _BLANK) for c in (*REQUIRED_TEXT, *OPTIONAL_DATES, "discount", "customer_rating")
    }
    comma = decimal_comma
    typed = ("sale_date", *OPTIONAL_DATES, "quantity_sold", *MONEY, "gross_profit", "discount")
    trim = {c: pc.utf8_trim(arr[c], " \t") for c in typed}

    # Dates.
    def date_ok(col: str) -> np.ndarray:
        ok = _match(arr[col], _DATE)
        text = pc.if_else(pa.array(ok), trim[col], "2000-01-01")
        y = pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.int32()).to_numpy()
        m = pc.cast(pc.utf8_slice_codeunits(text, 5, 7), pa.int32()).to_numpy()
        d = pc.cast(pc.utf8_slice_codeunits(text, 8, 10), pa.int32()).to_numpy()
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m] + (leap & (m == 2))
        return ok & (y >= 1) & (d <= days)

    def day_numbers(col: str, ok: np.ndarray) -> np.ndarray:
        text = pc.if_else(pa.array(ok), trim[col], "2000-01-01")
        return pc.cast(pc.cast(text, pa.date32()), pa.int32()).to_numpy()

    sale_ok = date_ok("sale_date")
    date_valid = {c: date_ok(c) for c in OPTIONAL_DATES}

    # Numbers.
    def norm(col: str) -> pa.Array:
        t = trim[col]
        if comma:
            t = pc.replace_substring(pc.replace_substring(t, ".", ""), ",", ".")
        return t

    money_ok = {c: _match(arr[c], number_pattern(comma)) for c in MONEY}
    profit_ok = _match(arr["gross_profit"], number_pattern(comma, signed=True))
    qty_form = _match(arr["quantity_sold"], number_pattern(comma, whole=True))
    num_text = {c: norm(c) for c in (*MONEY, "gross_profit", "discount")}
    qty_text = pc.replace_substring_regex(norm("quantity_sold"), r"\.0+$", "")
    qty_int = pc.cast(pc.if_else(pa.array(qty_form), qty_text, "0"), pa.int64())
    q_i = qty_int.to_numpy()
    qty_ok = qty_form & (q_i >= 1) & (q_i <= MAX_QUANTITY)
    disc_form = _match(arr["discount"], number_pattern(comma))
    disc_num = _floats(num_text["discount"], disc_form)
    # A value above 100 by less than float precision is decided exactly.
    disc_over = disc_form & (disc_num >= 100)
    for i in np.flatnonzero(disc_over & (disc_num == 100)):
        disc_over[i] = Fraction(num_text["discount"][int(i)].as_py()) > 100
    disc_ok = blank["discount"] | (disc_form & ~disc_over)

    # Field checks, in column order.
    for col in RAW_SALES_COLUMNS:
        if col == "sale_date":
            checks.add(~sale_ok, reason_date(col))
        elif col in REQUIRED_TEXT:
            checks.add(blank[col], reason_empty(col))
        elif col in OPTIONAL_DATES:
            checks.add(~blank[col] & ~date_valid[col], reason_date(col))
        elif col == "quantity_sold":
            checks.add(~qty_form | (q_i < 1), REASON_QUANTITY)
            checks.add(qty_form & (q_i > MAX_QUANTITY), REASON_QUANTITY_RANGE)
        elif col in MONEY:
            checks.add(~money_ok[col], reason_money(col))
        elif col == "gross_profit":
            checks.add(~profit_ok, REASON_PROFIT)
        elif col == "discount":
            checks.add(~disc_ok, REASON_DISCOUNT)
        elif col == "payment_status":
            checks.add(
                ~pc.is_in(arr[col], pa.array(PAYMENT_STATUSES)).to_numpy(zero_copy_only=False),
                REASON_PAYMENT_STATUS,
            )
        elif col == "delivery_status":
            checks.add(
                ~pc.is_in(arr[col], pa.array(DELIVERY_STATUSES)).to_numpy(zero_copy_only=False),
                REASON_DELIVERY_STATUS,
            )

    # Cross-field checks.
    sale_day = day_numbers("sale_date", sale_ok)
    for col in OPTIONAL_DATES:
        ok = date_valid[col] & sale_ok
        checks.add(ok & (day_numbers(col, ok) < sale_day), reason_before_sale(col))

    q = q_i.astype(np.float64)
    f = {c: _floats(num_text[c], money_ok[c]) for c in MONEY}
    gp = _floats(num_text["gross_profit"], profit_ok)
    d = np.where(blank["discount"], 0.0, disc_num)
    texts = {c: num_text[c] for c in (*MONEY, "gross_profit")}
    disc_text = pc.if_else(pa.array(blank["discount"]), "0", num_text["discount"])

    def s(col: str, i: int) -> str:
        return str(texts[col][i].as_py())

    qp = q * f["unit_price"]
    applies = qty_ok & money_ok["unit_price"] & disc_ok & money_ok["total_value"]
    checks.add(
        _tolerance_failures(
            np.abs(f["total_value"] - qp * (100 - d) / 100),
            np.maximum(qp, f["total_value"]),
            applies,
            lambda i: _exact_mismatch(
                s("total_value", i),
                total_value_expected(str(q_i[i]), s("unit_price", i), str(disc_text[i].as_py())),
            ),
        ),
        REASON_TOTAL_VALUE,
    )
    qc = q * f["unit_cost"]
    applies = qty_ok & money_ok["unit_cost"] & money_ok["total_cost"]
    checks.add(
        _tolerance_failures(
            np.abs(f["total_cost"] - qc),
            np.maximum(qc, f["total_cost"]),
            applies,
            lambda i: _exact_mismatch(
                s("total_cost", i), Fraction(int(q_i[i])) * Fraction(s("unit_cost", i))
            ),
        ),
        REASON_TOTAL_COST,
    )
    applies = money_ok["total_value"] & money_ok["total_cost"] & profit_ok
    checks.add(
        _tolerance_failures(
            np.abs(gp - (f["total_value"] - f["total_cost"])),
            np.maximum(np.maximum(f["total_value"], f["total_cost"]), np.abs(gp)),
            applies,
            lambda i: _exact_mismatch(
                s("gross_profit", i), Fraction(s("total_value", i)) - Fraction(s("total_cost", i))
            ),
        ),
        REASON_GROSS_PROFIT,
    )

    failed = checks.failed() | malformed
    duplicate_of = _claim_sale_ids(
        cols["sale_id"], blank["sale_id"], failed, chunk.first_row_number, seen_sale_ids
    )

    bad = failed | np.array([k in duplicate_of for k in range(n)]) if duplicate_of else failed
    good = ~bad
    valid = VALID_SCHEMA.empty_table()
    if good.any():
        out = _output_columns(arr, trim, blank, num_text, qty_int)
        row_numbers = pa.array(np.arange(chunk.first_row_number, chunk.first_row_number + n))
        valid = pa.Table.from_arrays([row_numbers, *(out[c] for c in RAW_SALES_COLUMNS)],
                                     schema=VALID_SCHEMA)
        if not good.all():
            valid = valid.filter(pa.array(good))
    return ValidationResult(valid, _rejections(chunk, arr, np.flatnonzero(bad), checks,
                                               duplicate_of))


def _claim_sale_ids(
    ids: list[str], blank: np.ndarray, failed: np.ndarray, first: int, seen: SeenSaleIds
) -> dict[int, int | None]:
    """Index -> first row of its sale_id, for rows whose id an earlier valid row claimed."""
    duplicate_of: dict[int, int | None] = {}
    mapping = isinstance(seen, Mapping)
    if not failed.any():  # the common case, at C speed: all valid, no id seen before
        fresh = seen.keys().isdisjoint(ids) if mapping else seen.isdisjoint(ids)  # type: ignore[union-attr]
        if fresh and len(set(ids)) == len(ids):
            if mapping:
                seen.update(zip(ids, range(first, first + len(ids)), strict=True))  # type: ignore[call-overload]
            else:
                seen.update(ids)  # type: ignore[arg-type]
            return duplicate_of
    for i, (sid, empty, bad) in enumerate(zip(ids, blank.tolist(), failed.tolist(), strict=True)):
        if empty:
            continue
        if sid in seen:
            duplicate_of[i] = seen[sid] if mapping else None  # type: ignore[index]
        elif not bad:
            _claim(seen, sid, first + i)
    return duplicate_of


def _output_columns(
    arr: dict[str, pa.Array],
    trim: dict[str, pa.Array],
    blank: dict[str, np.ndarray],
    num_text: dict[str, pa.Array],
    qty_int: pa.Array,
) -> dict[str, pa.Array]:
    """The stored text of every column, still in Arrow: normalized numbers and dates, NULL
    for empty optional values, "0" for an empty discount."""
    null = pa.scalar(None, pa.string())
    out: dict[str, pa.Array] = {}
    for col in RAW_SALES_COLUMNS:
        if col == "sale_date":
            out[col] = trim[col]
        elif col in OPTIONAL_DATES or col == "customer_rating":
            value = trim[col] if col in OPTIONAL_DATES else arr[col]
            out[col] = pc.if_else(pa.array(blank[col]), null, value) if blank[col].any() else value
        elif col == "quantity_sold":
            out[col] = pc.cast(qty_int, pa.string())
        elif col == "discount":
            out[col] = pc.if_else(pa.array(blank[col]), "0", num_text[col])
        elif col in num_text:
            out[col] = num_text[col]
        else:
            out[col] = arr[col]
    return out


def _rejections(
    chunk: Chunk,
    arr: dict[str, pa.Array],
    bad_idx: np.ndarray,
    checks: _Checks,
    duplicate_of: dict[int, int | None],
) -> list[Rejected]:
    if not len(bad_idx):
        return []
    reasons: dict[int, list[str]] = {int(i): [] for i in bad_idx}
    for mask, reason in checks.items:
        for i in np.flatnonzero(mask).tolist():
            reasons[i].append(reason)
    for i, first_row in duplicate_of.items():
        reasons[i].append(reason_duplicate(first_row))
    # Only the rejected rows' text becomes Python strings.
    taken = {c: pc.take(arr[c], pa.array(bad_idx)).to_pylist() for c in RAW_SALES_COLUMNS}
    out = []
    width = len(chunk.header)
    for j, (i, why) in enumerate(reasons.items()):
        n = chunk.first_row_number + i
        if i in chunk.malformed:
            fields = chunk.malformed[i]
            out.append(
                Rejected(n, _malformed_values(fields, chunk.header), [reason_malformed(len(fields), width)])
            )
        else:
            out.append(Rejected(n, {c: taken[c][j] for c in RAW_SALES_COLUMNS}, why))
    return out
