"""Header cell -> column: how a file's header names the 24 columns (see salespipe.contract)."""

from __future__ import annotations

from salespipe.contract import HUMAN_HEADERS, RAW_SALES_COLUMNS

__all__ = ["HUMAN_HEADERS", "RAW_SALES_COLUMNS", "column_for_header"]

# Header cells are matched after trimming surrounding whitespace and ignoring case.
_HEADER_LOOKUP: dict[str, str] = {
    **{name.lower(): name for name in RAW_SALES_COLUMNS},
    **{human.lower(): snake for human, snake in HUMAN_HEADERS.items()},
}


def column_for_header(cell: str) -> str | None:
    """The snake_case column a header cell names (human or snake form, any case), else None."""
    return _HEADER_LOOKUP.get(cell.strip().lower())
