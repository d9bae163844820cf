"""CSV downloads that a spreadsheet opens as data, never as formulas.

Product names, categories, object keys and rejection reasons come from the files people
upload. Opened in Excel or LibreOffice, a cell such as `=HYPERLINK("https://evil.example",
"invoice")` would run as a formula; OWASP's advice for CSV injection is to start such a cell
with a single quote, which spreadsheets read as "this is text".
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# OWASP's list: what makes a spreadsheet read a cell as a formula (tab and CR included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as the UTF-8 CSV every download button offers, text cells made formula-safe.

    Only text cells get the quote: numeric columns are left alone (a refund of -5 stays the
    number -5), as are dates and missing values. The frame itself is not modified.

    Lines end in CRLF (RFC 4180's line ending): Python's csv writer quotes a cell holding a
    character of the line terminator, so with `\r\n` a bare CR inside a name is quoted too.
    With `\n` alone it was written raw, and a spreadsheet would start a new row at it, whose
    first cell (`x\r=HYPERLINK(...)`) would escape the quote above.
    """
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(_text_cell)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
