"""Files as people send them: `.csv`, `.csv.gz`, `.zip` holding one CSV, `.xlsx` (first sheet).

The object key's extension says what the bytes are (case-insensitive):

- `.csv`, `.txt` or no extension: a CSV file, sniffed by `loader.parse.open_csv`.
- `.gz` (`.csv.gz`): gzip of a CSV file. `.zip`: an archive with exactly one CSV member
  (folders and macOS `__MACOSX/` entries are ignored). Both are unpacked to a scratch file
  next to the download and then read exactly like a plain CSV, so encoding, delimiter,
  header and row rules - and the pyarrow fast path - are the same. A corrupt or truncated
  archive, an encrypted zip, or a zip with several (or no) files rejects the file.
- `.xlsx`: the first sheet of the workbook, read with python-calamine (Rust). Measured on a
  100,000-row, 24-column sheet on the 2-core CI machine: openpyxl `read_only` ~35 s,
  pandas `read_excel` ~9.5 s, python-calamine ~3.6 s, fastexcel ~2.8 s. fastexcel is a bit
  faster but hands out each column with one type, so a number cell and the text "1.234"
  are indistinguishable once a column holds both - the exact ambiguity pt-BR exports have;
  calamine gives every cell with its own type.
- anything else (`.xls`, `.pdf`, `.json`, ...) is rejected with the list of what is accepted.

How sheet cells become the text the validator checks (so the row rules are the CSV rules):

- The header is the first non-empty row; data rows follow, fully empty rows are skipped
  (like empty lines in a CSV), so row numbers count data rows (1 = first row after header).
- Text cells are kept exactly. Excel dates become `YYYY-MM-DD` (a time of day in a date
  column is dropped); `dd/mm/yyyy` text in a date column that is a real day becomes
  `YYYY-MM-DD` too, anything else stays as typed and is rejected by the date rule.
- Number cells are written with Excel's 15 significant digits (what the sheet shows, and
  what turns 50.970000000000006 back into 50.97). The decimal mark follows the file: if
  any text cell in a number column holds a ",", the sheet is a pt-BR export and is checked
  with the decimal-comma rules of a `;` CSV ("1.234,56"), with number cells written as
  "1234,56"; otherwise the "." rules apply.
"""

from __future__ import annotations

import gzip
import itertools
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from loader.columns import RAW_SALES_COLUMNS
from loader.parse import Chunk, FileRejected, match_header, open_csv

CSV_SUFFIXES = ("", ".csv", ".txt")
ACCEPTED = ".csv, .csv.gz, .zip (one CSV) or .xlsx"
# An archive that unpacks to more than this is refused (a "zip bomb" must not fill the disk).
MAX_UNPACKED_BYTES = 16 << 30
_COPY_BLOCK = 1 << 20

DATE_COLUMNS = frozenset({"sale_date", "payment_date", "delivery_date"})
NUMBER_COLUMNS = frozenset({
    "quantity_sold", "unit_price", "discount", "total_value", "unit_cost", "total_cost",
    "gross_profit", "shipping_cost",
})  # fmt: skip
_DMY = re.compile(r"[ \t]*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ \t]*")


class SalesFile(Protocol):
    """What the loader needs from an opened file, whatever its format."""

    @property
    def encoding(self) -> str | None: ...

    @property
    def delimiter(self) -> str | None: ...

    @property
    def extra_columns(self) -> list[str]: ...

    @property
    def decimal_comma(self) -> bool: ...

    def chunks(self, rows: int = 50_000) -> Iterator[Chunk]: ...


def file_kind(name: str) -> str:
    """"csv", "gzip", "zip" or "xlsx" from a key or file name; raises FileRejected otherwise."""
    base = name.rsplit("/", 1)[-1].lower()
    suffix = "." + base.rsplit(".", 1)[-1] if "." in base.lstrip(".") else ""
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix == ".gz":
        return "gzip"
    if suffix == ".zip":
        return "zip"
    if suffix == ".xlsx":
        return "xlsx"
    hint = " (save it as .xlsx)" if suffix in {".xls", ".ods", ".xlsm", ".xlsb"} else ""
    raise FileRejected(f"unsupported file type '{suffix}'{hint}: expected {ACCEPTED}")


@contextmanager
def open_sales_file(path: str | Path, name: str | None = None) -> Iterator[SalesFile]:
    """Open a downloaded object (or a local file) by the format its `name` (default: the
    path's) names; scratch files live next to `path` and are gone when the block ends.
    Raises FileRejected for anything that cannot be read as sales rows."""
    path = Path(path)
    kind = file_kind(name if name is not None else path.name)
    if kind == "csv":
        yield open_csv(path)
    elif kind == "xlsx":
        yield open_xlsx(path)
    else:
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".csv") as scratch:
            if kind == "gzip":
                _gunzip(path, scratch)
            else:
                _unzip_one_csv(path, scratch)
            scratch.flush()
            yield open_csv(scratch.name)


# -- archives ---------------------------------------------------------------------------------


def _copy_bounded(src: IO[bytes], dst: IO[bytes]) -> None:
    written = 0
    while block := src.read(_COPY_BLOCK):
        written += len(block)
        if written > MAX_UNPACKED_BYTES:
            raise FileRejected(f"archive unpacks to more than {MAX_UNPACKED_BYTES >> 30} GiB")
        dst.write(block)


def _gunzip(path: Path, dst: IO[bytes]) -> None:
    try:
        with gzip.open(path, "rb") as src:
            _copy_bounded(src, dst)  # type: ignore[arg-type]
    except gzip.BadGzipFile as exc:
        raise FileRejected(f"corrupt gzip: {exc}") from exc
    except EOFError as exc:
        raise FileRejected("corrupt gzip: truncated (the stream ends early)") from exc
    except zlib.error as exc:
        raise FileRejected(f"corrupt gzip: {exc}") from exc


def _zip_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info for info in zf.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        and info.filename.rsplit("/", 1)[-1] != ".DS_Store"
    ]  # fmt: skip


def _unzip_one_csv(path: Path, dst: IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            members = _zip_members(zf)
            if not members:
                raise FileRejected("zip archive holds no file: expected exactly one CSV")
            if len(members) > 1:
                names = ", ".join(m.filename for m in members[:5])
                more = ", ..." if len(members) > 5 else ""
                raise FileRejected(
                    f"zip archive holds {len(members)} files ({names}{more}): expected exactly one CSV"
                )
            (member,) = members
            if member.flag_bits & 0x1:
                raise FileRejected("encrypted zip: password-protected archives are not supported")
            if file_kind(member.filename) != "csv":
                raise FileRejected(f"zip member '{member.filename}' is not a CSV file")
            with zf.open(member) as src:
                _copy_bounded(src, dst)
    except zipfile.BadZipFile as exc:
        raise FileRejected(f"corrupt zip: {exc}") from exc
    except NotImplementedError as exc:  # e.g. an unsupported compression method
        raise FileRejected(f"unsupported zip: {exc}") from exc
    except (zlib.error, EOFError) as exc:
        raise FileRejected(f"corrupt zip: {exc or 'truncated'}") from exc


# -- xlsx -------------------------------------------------------------------------------------


def number_text(value: float | int, decimal_comma: bool) -> str:
    """A number cell as the sheet shows it: 15 significant digits, no exponent."""
    if value == 0:
        return "0"
    text = str(value) if isinstance(value, int) else f"{value:.15g}"
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.replace(".", ",") if decimal_comma else text


def date_text(value: Any, decimal_comma: bool) -> str:
    """A cell of a date column: Excel dates and real `dd/mm/yyyy` days as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        m = _DMY.fullmatch(value)
        if m:
            try:
                return date(int(m[3]), int(m[2]), int(m[1])).isoformat()
            except ValueError:
                return value
        return value
    return cell_text(value, decimal_comma)


def cell_text(value: Any, decimal_comma: bool) -> str:
    """Any other cell as text: strings exactly, numbers as the sheet shows them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number_text(value, decimal_comma)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


@dataclass
class XlsxFile:
    """The first sheet of a workbook as sales rows; `chunks()` streams them."""

    path: Path
    header: list[str]
    positions: dict[str, int]
    extra_columns: list[str]
    decimal_comma: bool
    _sheet: Any = field(repr=False)
    encoding: str | None = None
    delimiter: str | None = None

    def _data_rows(self) -> Iterator[list[Any]]:
        rows = itertools.dropwhile(_is_empty, self._sheet.iter_rows())
        next(rows, None)  # the header row
        return itertools.filterfalse(_is_empty, rows)

    def _batches(self, rows: int) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
        """(row count, the batch's cells transposed: one tuple per sheet column)."""
        data = self._data_rows()
        while batch := list(itertools.islice(data, rows)):
            yield len(batch), list(zip(*batch, strict=True))

    def chunks(self, rows: int = 50_000) -> Iterator[Chunk]:
        """Data rows in chunks of `rows`, each cell as text (see the module docstring)."""
        if rows < 1:
            raise ValueError("rows must be >= 1")
        next_row = 1
        for n, table in self._batches(rows):
            columns = {col: _column_text(col, table[self.positions[col]], self.decimal_comma)
                       for col in RAW_SALES_COLUMNS}
            yield Chunk(next_row, n, columns, {}, list(self.header))
            next_row += n

    def _has_comma_text_numbers(self) -> bool:
        for _, table in self._batches(50_000):
            for col in NUMBER_COLUMNS:
                if any("," in v for v in table[self.positions[col]] if v.__class__ is str):
                    return True
        return False


def _is_empty(row: list[Any]) -> bool:
    return row.count("") + row.count(None) == len(row)  # calamine: "" for an empty cell


def _column_text(col: str, cells: Sequence[Any], comma: bool) -> list[str]:
    # Each branch inlines its common cell (a date, a plain float, a string): ~3x faster.
    if col in DATE_COLUMNS:
        return [v.isoformat() if v.__class__ is date else date_text(v, comma) for v in cells]
    if col in NUMBER_COLUMNS:
        if comma:
            return [f"{v:.15g}".replace(".", ",") if v.__class__ is float and 1e-5 <= abs(v) < 1e15
                    else cell_text(v, comma) for v in cells]
        return [f"{v:.15g}" if v.__class__ is float and 1e-5 <= abs(v) < 1e15
                else cell_text(v, comma) for v in cells]
    return [v if v.__class__ is str else cell_text(v, comma) for v in cells]


def open_xlsx(path: str | Path) -> XlsxFile:
    """Open the first sheet and match its header; raises FileRejected for a file that is not
    a readable workbook, an empty first sheet, or a missing or repeated column."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    path = Path(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        if not workbook.sheet_names:
            raise FileRejected("xlsx workbook has no sheet")
        sheet = workbook.get_sheet_by_index(0)
    except PasswordError as exc:
        raise FileRejected("encrypted xlsx: password-protected workbooks are not supported") from exc
    except CalamineError as exc:
        raise FileRejected(f"not a readable xlsx workbook: {_first_line(exc)}") from exc
    except (ValueError, OSError) as exc:
        raise FileRejected(f"not a readable xlsx workbook: {_first_line(exc)}") from exc
    header_row = next(itertools.filterfalse(_is_empty, sheet.iter_rows()), None)
    if header_row is None:
        raise FileRejected("no header: the first sheet is empty")
    header = [cell_text(v, False).strip() for v in header_row]
    while header and not header[-1]:
        header.pop()
    positions, extra = match_header(header)
    extra = [cell for cell in extra if cell]
    xlsx = XlsxFile(path, header, positions, extra, False, sheet)
    xlsx.decimal_comma = xlsx._has_comma_text_numbers()
    return xlsx


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
