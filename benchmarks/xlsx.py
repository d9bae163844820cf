"""Excel input: write a generated day as `.xlsx`, and compare sheet readers on it.

`python -m benchmarks.xlsx [--rows 100000]` times the loader's path (fastexcel via
`loader.formats`: sheet to validated rows) and, when they are installed, other readers of the
same sheet: openpyxl `read_only`, pandas `read_excel`, python-calamine (cells as Python
objects).
The loader's own end-to-end figure for an `.xlsx` object is part of `make bench`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.core import generate_day

_DATES = {"Sale Date", "Payment Date", "Delivery Date"}
_NUMBERS = {"Quantity Sold", "Unit Price", "Discount (%)", "Total Value (with Discount)",
            "Unit Cost", "Total Cost", "Gross Profit", "Shipping Cost"}


def write_xlsx(path: Path, day: dt.date, rows: int, seed: int) -> Path:
    """The generator's day as a pt-BR Excel export would hold it: real dates, real numbers."""
    import xlsxwriter

    data = generate_day(day, rows, seed)
    header = next(data)
    dates = {i for i, h in enumerate(header) if h in _DATES}
    numbers = {i for i, h in enumerate(header) if h in _NUMBERS}
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Vendas")
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, header)
    for r, row in enumerate(data, 1):
        for c, v in enumerate(row):
            if not v:
                continue
            if c in dates:
                ws.write_datetime(r, c, dt.datetime.fromisoformat(v), date_format)
            elif c in numbers:
                ws.write_number(r, c, float(v))
            else:
                ws.write_string(r, c, v)
    wb.close()
    return path


def _loader(path: Path) -> int:
    from loader.formats import open_sales_file
    from loader.validate import validate_chunk

    n, seen = 0, {}
    with open_sales_file(path) as f:
        for chunk in f.chunks():
            n += validate_chunk(chunk, decimal_comma=f.decimal_comma, seen_sale_ids=seen).n_valid
    return n


def _openpyxl(path: Path) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    return sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 1


def _pandas(path: Path) -> int:
    import pandas as pd

    engine = "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"
    return len(pd.read_excel(path, engine=engine, dtype=str))


def _calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sum(1 for _ in sheet.iter_rows()) - 1


READERS: dict[str, tuple[str, Callable[[Path], int]]] = {
    "loader (fastexcel, sheet to validated rows)": ("fastexcel", _loader),
    "openpyxl read_only (rows only)": ("openpyxl", _openpyxl),
    "pandas read_excel (DataFrame only)": ("pandas", _pandas),
    "python-calamine (rows of Python objects only)": ("python_calamine", _calamine),
}


def compare(path: Path) -> list[dict[str, Any]]:
    out = []
    for name, (module, read) in READERS.items():
        if importlib.util.find_spec(module) is None:
            out.append({"reader": name, "seconds": None})
            continue
        started = time.perf_counter()
        rows = read(path)
        out.append({"reader": name, "rows": rows, "seconds": time.perf_counter() - started})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=100_000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "sales.xlsx", dt.date(2026, 3, 1), args.rows, 7)
        for r in compare(path):
            figure = "not installed" if r["seconds"] is None else f"{r['seconds']:.2f} s"
            print(f"{r['reader']:<52} {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
