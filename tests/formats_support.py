"""Write sales files the way people send them: gzip, zip, Excel workbooks (for tests)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tests.integration.loader_support import HUMAN, SNAKE

DATES = ("sale_date", "payment_date", "delivery_date")
NUMBERS = ("quantity_sold", "unit_price", "discount", "total_value", "unit_cost", "total_cost",
           "gross_profit", "shipping_cost")


def to_gz(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


def to_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def encrypted_zip(name: str, body: bytes) -> bytes:
    """A one-member zip whose entry says "encrypted" (flag bit 0), as a password-protected
    archive does; the standard library cannot write real ZipCrypto."""
    data = bytearray(to_zip({name: body}))
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def excel_row(values: dict[str, str], *, dates: str = "excel", numbers: str = "number",
              columns: Sequence[str] = SNAKE) -> list[Any]:
    """One sheet row from a `sale()` dict: dates as Excel dates or dd/mm/yyyy text, numbers as
    number cells or pt-BR text with a decimal comma."""
    out: list[Any] = []
    for col in columns:
        v = values.get(col, "")
        if col in DATES and v:
            day = dt.date.fromisoformat(v)
            out.append(day if dates == "excel" else day.strftime("%d/%m/%Y"))
        elif col in NUMBERS and v:
            out.append(float(Decimal(v)) if numbers == "number" else v.replace(".", ","))
        else:
            out.append(v)
    return out


def to_xlsx(rows: Sequence[Sequence[Any]], *, header: Sequence[str] | None = None,
            human: bool = True, first_rows: Sequence[Sequence[Any]] = ()) -> bytes:
    """An .xlsx with the header and rows on its first sheet; `first_rows` come before the
    header (e.g. empty rows). Dates get a dd/mm/yyyy format, as a pt-BR Excel shows them; a
    second sheet follows (only the first is data)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Vendas")
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    names = list(header) if header is not None else (HUMAN if human else SNAKE)
    r = 0
    for row in first_rows:
        ws.write_row(r, 0, list(row))
        r += 1
    ws.write_row(r, 0, names)
    for row in rows:
        r += 1
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_format)
            elif isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            elif v == "":
                continue
            else:
                ws.write_string(r, c, v)
    wb.add_worksheet("Resumo").write_string(0, 0, "not the data")
    wb.close()
    return buf.getvalue()
