"""Rows -> valid rows ready for COPY, and rejected rows with every reason that applies (pure).

The rules themselves are the tables in `loader.rules`; this module runs them two ways:

- `validate_chunk`, the loader's path: each rule checks a whole Arrow column at once
  (pyarrow.compute + numpy) and valid rows stay Arrow arrays until COPY. ~50,000 rows in a few
  tens of milliseconds.
- `validate_chunk_reference`: row by row through `SaleRow`, the pydantic contract of a valid
  row (built from the same table), with exact arithmetic. ~50 k rows/s: too slow for the
  loader's 100 k rows/s on 2 cores, obviously right, and what the unit tests (hypothesis)
  require `validate_chunk` to agree with, reason for reason.

Also here, because they concern rows rather than values: a sale_id claimed by an earlier
valid row of the same file makes a row a duplicate ("first at row N"; `seen_sale_ids`
carries the claims across chunks), and a record with the wrong number of fields is rejected
with only "row has N fields, header has M" (its values keyed by header position, plus
`_extra_<k>` beyond the header).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from loader.columns import RAW_SALES_COLUMNS, column_for_header
from loader.parse import Chunk
from loader.rules import (
    COLUMN_RULES,
    CROSS_RULES,
    Cells,
    CrossRule,
    blank_mask,
    check_row,
    is_blank,
)


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
    def from_rows(
        cls, row_numbers: list[int], rows: list[tuple[str | None, ...]], rejected: list[Rejected]
    ) -> ValidationResult:
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in RAW_SALES_COLUMNS]
        arrays = [pa.array(row_numbers, pa.int64())]
        arrays += [pa.array(list(col), pa.string()) for col in columns]
        return cls(pa.Table.from_arrays(arrays, schema=VALID_SCHEMA), rejected)


SeenSaleIds = MutableMapping[str, int] | set[str]


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


# -- the contract: SaleRow, built from the rule table -------------------------------------------


def _err(reason: str) -> PydanticCustomError:
    return PydanticCustomError("sale_row", reason)


def _comma(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("decimal_comma"))


class _SaleRowRules(BaseModel):
    """Validators of `SaleRow`: each field by its column rule, then the cross-field rules,
    reporting every reason (pydantic alone stops at the first model error)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _by_rule(cls, v: str, info: ValidationInfo) -> Any:
        cell = COLUMN_RULES[str(info.field_name)].check(str(info.field_name), v, _comma(info))
        if cell.reason is not None:
            raise _err(cell.reason)
        return cell.value

    @model_validator(mode="wrap")
    @classmethod
    def _every_reason(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        _, reasons = check_row(data, _comma(info))
        if not reasons:
            return handler(data)
        errors: list[InitErrorDetails] = [
            {"type": _err(reason), "loc": (reason.split(":")[0],), "input": data} for reason in reasons
        ]
        raise ValidationError.from_exception_data("SaleRow", errors)


# One valid sales row, typed: `SaleRow.model_validate(values, context={"decimal_comma": bool})`
# with the 24 columns as text; every error message is one of the reason texts of loader.rules.
SaleRow = create_model(  # type: ignore[call-overload]
    "SaleRow",
    __base__=_SaleRowRules,
    **{col: (rule.python_type, ...) for col, rule in COLUMN_RULES.items()},
)


def reference_reasons(values: Mapping[str, str], *, decimal_comma: bool) -> list[str]:
    """Every reason `values` (the 24 columns as text) is not a valid row, via `SaleRow`."""
    try:
        SaleRow.model_validate(dict(values), context={"decimal_comma": decimal_comma})
    except ValidationError as exc:
        return [e["msg"] for e in exc.errors()]
    return []


def reference_row(values: Mapping[str, str], *, decimal_comma: bool) -> tuple[str | None, ...]:
    """The COPY tuple for a row `reference_reasons` accepts."""
    cells, _ = check_row(values, decimal_comma)
    return tuple(cells[col].stored for col in RAW_SALES_COLUMNS)


def validate_chunk_reference(
    chunk: Chunk, *, decimal_comma: bool, seen_sale_ids: SeenSaleIds
) -> ValidationResult:
    """`validate_chunk` row by row through `SaleRow`: slow, obviously right."""
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
        if not is_blank(sid) and sid in seen_sale_ids:
            reasons.append(reason_duplicate(_first_row(seen_sale_ids, sid)))
        if reasons:
            rejected.append(Rejected(n, values, reasons))
        else:
            _claim(seen_sale_ids, sid, n)
            valid_rows.append(reference_row(values, decimal_comma=decimal_comma))
            valid_row_numbers.append(n)
    return ValidationResult.from_rows(valid_row_numbers, valid_rows, rejected)


# -- the fast path ----------------------------------------------------------------------------


def validate_chunk(chunk: Chunk, *, decimal_comma: bool,
                   seen_sale_ids: SeenSaleIds | None) -> ValidationResult:
    """Split a chunk into COPY-ready valid rows and rejected rows (see the module docstring).

    `seen_sale_ids` is updated in place: pass the same (preferably a dict) for every chunk of
    one file; it grows by ~300 B per row. `None` leaves duplicates to the caller (the loader
    finds them in PostgreSQL after COPY, so its memory does not grow with the file).
    n_valid + len(rejected) == chunk.n_rows.
    """
    n = chunk.n_rows
    if n == 0:
        return ValidationResult()
    arrow = chunk.arrow or {}
    arr = {c: arrow[c] if c in arrow else pa.array(chunk.columns[c], pa.string()) for c in RAW_SALES_COLUMNS}
    cells: dict[str, Cells] = {
        col: rule.check_array(col, arr[col], decimal_comma) for col, rule in COLUMN_RULES.items()
    }
    failures = [(mask, reason) for c in cells.values() for mask, reason in c.failures if mask.any()]

    for rule in CROSS_RULES:
        mask = rule.fails_array(cells, partial(_exact_at, rule, arr, decimal_comma))
        if mask.any():
            failures.append((mask, rule.reason))

    failed = np.zeros(n, dtype=bool)
    failed[list(chunk.malformed)] = True
    for mask, _ in failures:
        failed |= mask
    duplicate_of = {} if seen_sale_ids is None else _claim_sale_ids(
        chunk.columns["sale_id"], blank_mask(arr["sale_id"]), failed, chunk.first_row_number,
        seen_sale_ids,
    )
    if duplicate_of:
        failed[list(duplicate_of)] = True
    good = ~failed
    valid = VALID_SCHEMA.empty_table()
    if good.any():
        row_numbers = pa.array(np.arange(chunk.first_row_number, chunk.first_row_number + n))
        valid = pa.Table.from_arrays(
            [row_numbers, *(cells[c].stored for c in RAW_SALES_COLUMNS)], schema=VALID_SCHEMA
        )
        if not good.all():
            valid = valid.filter(pa.array(good))
    return ValidationResult(valid, _rejections(chunk, arr, np.flatnonzero(failed), failures, duplicate_of))


def _exact_at(rule: CrossRule, arr: Mapping[str, pa.Array], comma: bool, i: int) -> bool:
    return rule.fails_on_text({c: arr[c][i].as_py() for c in rule.columns}, comma)


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


def _rejections(
    chunk: Chunk,
    arr: dict[str, pa.Array],
    bad_idx: np.ndarray,
    failures: list[tuple[np.ndarray, str]],
    duplicate_of: dict[int, int | None],
) -> list[Rejected]:
    if not len(bad_idx):
        return []
    reasons: dict[int, list[str]] = {int(i): [] for i in bad_idx}
    for mask, reason in failures:
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
