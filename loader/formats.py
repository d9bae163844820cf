"""Files as people send them: `.csv`, `.csv.gz`, `.zip` holding one CSV, `.xlsx` (first sheet).

The object key's extension says what the bytes are (case-insensitive):

- `.csv`, `.txt` or no extension: a CSV file, sniffed by `loader.parse.open_csv`.
- `.gz` (`.csv.gz`): gzip of a CSV file. `.zip`: an archive with exactly one CSV member
  (folders and macOS `__MACOSX/` entries are ignored). Both are unpacked to a scratch file
  next to the download and then read exactly like a plain CSV, so encoding, delimiter,
  header and row rules - and the pyarrow fast path - are the same. A corrupt or truncated
  archive, an encrypted zip, or a zip with several (or no) files rejects the file, and so
  does one that declares or unpacks to more than `Limits.unpacked_bytes`.
- `.xlsx`: the first sheet of the workbook, read with fastexcel (calamine, in Rust) in a child
  process with capped memory (loader/sheet_reader.py says why) straight into Arrow text
  columns, so a sheet takes the loader's vectorized path like a CSV does.
  Measured on a 100,000-row, 24-column sheet on the busy 2-core CI machine (reading only):
  openpyxl `read_only` 40.8 s, pandas `read_excel` 10.3 s, python-calamine (cells as Python
  objects, then text) 14.0 s with validation, fastexcel 3.4 s. Through the whole loader
  (download, parse, validate, COPY; `benchmarks.load_once`), the same 100,000 rows took
  9.7 s as .xlsx (6.8 s of it reading the sheet), 4.8 s as .csv.gz and 4.2 s as .csv.
- anything else (`.xls`, `.pdf`, `.json`, ...) is rejected with the list of what is accepted.

How sheet cells become the text the validator checks (so the row rules are the CSV rules):

- The header is the first non-empty row; data rows follow, fully empty rows are skipped
  (like empty lines in a CSV), so row numbers count data rows (1 = first row after header).
- Text cells are kept exactly. In the date columns, Excel dates (and date-times: the time of
  day is dropped) become `YYYY-MM-DD`, so does `dd/mm/yyyy` text that is a real day;
  anything else stays as typed and is rejected by the date rule.
- In the number columns, number cells read with Excel's 15 significant digits (what the sheet
  shows: 50.970000000000006 is 50.97). Text that the `;`-file rules accept and that has a
  decimal comma ("1.234,56", "12,5") - what pt-BR exports produce - is read as that number;
  other text is checked with the "." rules, so "1.234" without a comma means 1.234 (a sheet
  keeps no decimal convention to tell otherwise).
"""

from __future__ import annotations

import gzip
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loader.columns import RAW_SALES_COLUMNS
from loader.download import Stopped
from loader.limits import DEFAULT_LIMITS, Limits, over
from loader.parse import ArrowColumns, Chunk, FileRejected, match_header, open_csv
from loader.rules import number_pattern
from loader.sheet_reader import read_first_sheet

CSV_SUFFIXES = ("", ".csv", ".txt")
ACCEPTED = ".csv, .csv.gz, .zip (one CSV) or .xlsx"
_COPY_BLOCK = 1 << 20

DATE_COLUMNS = frozenset({"sale_date", "payment_date", "delivery_date"})
NUMBER_COLUMNS = frozenset({
    "quantity_sold", "unit_price", "discount", "total_value", "unit_cost", "total_cost",
    "gross_profit", "shipping_cost",
})  # fmt: skip


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
def open_sales_file(path: str | Path, name: str | None = None, limits: Limits = DEFAULT_LIMITS,
                    stop: threading.Event | None = None) -> Iterator[SalesFile]:
    """Open a downloaded object (or a local file) by the format its `name` (default: the
    path's) names; scratch files live next to `path` and are gone when the block ends.
    Raises FileRejected for anything that cannot be read as sales rows, or that goes over
    one of `limits` (also part-way through `chunks()`). Unpacking an archive gives up
    with `Stopped` as soon as `stop` is set: gigabytes must not delay a shutdown."""
    path = Path(path)
    kind = file_kind(name if name is not None else path.name)
    if kind == "csv":
        yield Bounded(open_csv(path, limits), limits)
    elif kind == "xlsx":
        yield Bounded(open_xlsx(path, limits), limits)
    else:
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".csv") as scratch:
            if kind == "gzip":
                _gunzip(path, scratch, limits, stop)
            else:
                _unzip_one_csv(path, scratch, limits, stop)
            scratch.flush()
            yield Bounded(open_csv(scratch.name, limits), limits)


@dataclass
class Bounded:
    """A SalesFile whose chunks are checked against the row and field limits, whatever the
    format: rows are counted as they stream, and each column's longest value is measured
    (on Arrow arrays, one vectorized pass per column)."""

    inner: SalesFile
    limits: Limits

    @property
    def encoding(self) -> str | None:
        return self.inner.encoding

    @property
    def delimiter(self) -> str | None:
        return self.inner.delimiter

    @property
    def extra_columns(self) -> list[str]:
        return self.inner.extra_columns

    @property
    def decimal_comma(self) -> bool:
        return self.inner.decimal_comma

    def chunks(self, rows: int = 50_000) -> Iterator[Chunk]:
        seen = 0
        for chunk in self.inner.chunks(rows):
            seen += chunk.n_rows
            if seen > self.limits.rows:
                raise FileRejected(over("the file holds at least", seen, "rows", self.limits.rows,
                                        "LOADER_MAX_ROWS"))
            self._check_fields(chunk)
            yield chunk

    def _check_fields(self, chunk: Chunk) -> None:
        limit = self.limits.field_bytes
        for col in RAW_SALES_COLUMNS:
            if chunk.arrow is not None:
                lengths = pc.binary_length(chunk.arrow[col])
                longest = pc.max(lengths).as_py() or 0
                if longest <= limit:
                    continue
                at = int(pc.index(lengths, longest).as_py())
            else:
                values = chunk.columns[col]
                if not values or max(map(len, values)) * 4 <= limit:
                    continue
                sizes = [len(v.encode()) for v in values]
                longest = max(sizes)
                if longest <= limit:
                    continue
                at = sizes.index(longest)
            raise FileRejected(over(f"row {chunk.first_row_number + at}, {col}: the value holds", longest,
                                    "bytes", limit, "LOADER_MAX_FIELD_BYTES"))


# -- archives ---------------------------------------------------------------------------------


def _copy_bounded(src: IO[bytes], dst: IO[bytes], limits: Limits,
                  stop: threading.Event | None) -> None:
    written = 0
    while block := src.read(_COPY_BLOCK):
        if stop is not None and stop.is_set():
            raise Stopped("unpacking")
        written += len(block)
        if written > limits.unpacked_bytes:
            raise FileRejected(over("the archive unpacks to at least", written, "bytes",
                                    limits.unpacked_bytes, "LOADER_MAX_UNPACKED_BYTES"))
        dst.write(block)


def _gunzip(path: Path, dst: IO[bytes], limits: Limits, stop: threading.Event | None) -> None:
    try:
        with gzip.open(path, "rb") as src:
            _copy_bounded(src, dst, limits, stop)  # type: ignore[arg-type]
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


def _is_csv_name(name: str) -> bool:
    try:
        return file_kind(name) == "csv"
    except FileRejected:
        return False


def _unzip_one_csv(path: Path, dst: IO[bytes], limits: Limits,
                   stop: threading.Event | None) -> None:
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
            if not _is_csv_name(member.filename):
                raise FileRejected(f"zip member '{member.filename}' is not a CSV file")
            if member.file_size > limits.unpacked_bytes:
                raise FileRejected(over(f"zip member '{member.filename}' declares", member.file_size,
                                        "bytes", limits.unpacked_bytes, "LOADER_MAX_UNPACKED_BYTES"))
            with zf.open(member) as src:
                _copy_bounded(src, dst, limits, stop)
    except zipfile.BadZipFile as exc:
        raise FileRejected(f"corrupt zip: {exc}") from exc
    except NotImplementedError as exc:  # e.g. an unsupported compression method
        raise FileRejected(f"unsupported zip: {exc}") from exc
    except (zlib.error, EOFError) as exc:
        raise FileRejected(f"corrupt zip: {exc or 'truncated'}") from exc


# -- xlsx -------------------------------------------------------------------------------------


def number_text(value: float, decimal_comma: bool = False) -> str:
    """A number as the sheet shows it: 15 significant digits, no exponent."""
    if value == 0:
        return "0"
    text = f"{value:.15g}"
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.replace(".", ",") if decimal_comma else text


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)


def sheet_dates(arr: pa.Array) -> pa.Array:
    """A date column as read: Excel dates and date-times ("2026-03-01 10:30:00") become the
    day; `dd/mm/yyyy` text that is a real day becomes YYYY-MM-DD; anything else is kept."""
    arr = pc.replace_substring_regex(
        arr, r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) [0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?$", r"\1")
    parts = pc.extract_regex(pc.utf8_trim(arr, " \t"),
                             r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})$")
    found = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    if not found.any():
        return arr
    d, m, y = (pc.fill_null(pc.struct_field(parts, name), "1") for name in ("d", "m", "y"))
    dn, mn, yn = (pc.cast(v, pa.int32()).to_numpy(zero_copy_only=False) for v in (d, m, y))
    leap = (yn % 4 == 0) & ((yn % 100 != 0) | (yn % 400 == 0))
    month_ok = (mn >= 1) & (mn <= 12)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.where(month_ok, mn, 0)]
    real = found & month_ok & (yn >= 1) & (dn >= 1) & (dn <= days + (leap & (mn == 2)))
    iso = pc.binary_join_element_wise(y, pc.utf8_lpad(m, 2, "0"), pc.utf8_lpad(d, 2, "0"), "-")
    return pc.if_else(pa.array(real), iso, arr)


def sheet_numbers(arr: pa.Array) -> pa.Array:
    """A number column as read: number cells with Excel's 15 significant digits; text with a
    decimal comma that the `;`-file rules accept ("1.234,56") in "." form ("1234.56");
    anything else is kept, for the validator to judge."""
    pt_br = _match(arr, "^(" + number_pattern(True, signed=True) + ")$") & _match(arr, ",")
    if pt_br.any():
        dotted = pc.replace_substring(pc.replace_substring(arr, ".", ""), ",", ".")
        arr = pc.if_else(pa.array(pt_br), dotted, arr)
    # More than 15 significant digits: float noise of a number cell (50.970000000000006).
    noisy = np.flatnonzero(_match(arr, r"^-?[0-9]*[.]?[0-9]*$") & _match(arr, r"[0-9.]{17}"))
    if len(noisy):
        texts = arr.to_pylist()
        for i in noisy.tolist():
            texts[i] = number_text(float(texts[i]))
        arr = pa.array(texts, pa.string())
    return arr


@dataclass
class XlsxFile:
    """The first sheet of a workbook as sales rows; `chunks()` hands them out."""

    path: Path
    header: list[str]
    extra_columns: list[str]
    columns: dict[str, pa.Array] = field(repr=False)  # data rows only, cells as text
    # A sheet's numbers are normalized cell by cell (see `sheet_numbers`), so the validator
    # applies the "." rules; there is no text encoding or delimiter to record.
    decimal_comma: bool = False
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def n_rows(self) -> int:
        return len(self.columns["sale_id"])

    def chunks(self, rows: int = 50_000) -> Iterator[Chunk]:
        """Data rows in chunks of `rows` (row 1 = the first non-empty row after the header)."""
        if rows < 1:
            raise ValueError("rows must be >= 1")
        for start in range(0, self.n_rows, rows):
            arrays = {col: arr.slice(start, rows) for col, arr in self.columns.items()}
            n = len(arrays["sale_id"])
            yield Chunk(start + 1, n, ArrowColumns(arrays), {}, list(self.header), arrays)


def open_xlsx(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> XlsxFile:
    """Read the first sheet (in a child process, see loader.sheet_reader) and match its
    header; raises FileRejected for a file that is not a readable workbook, goes over a
    limit, has an empty first sheet, or a missing or repeated column."""
    path = Path(path)
    table = read_first_sheet(path, limits)
    cells = [pc.fill_null(_array(table.column(i)), "") for i in range(table.num_columns)]
    non_empty = np.zeros(table.num_rows, dtype=bool)
    for col in cells:
        non_empty |= pc.greater(pc.binary_length(col), 0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(non_empty)
    if not len(rows):
        raise FileRejected("no header: the first sheet is empty")
    header = [str(col[int(rows[0])].as_py()).strip() for col in cells]
    while header and not header[-1]:
        header.pop()
    positions, extra = match_header(header)
    data_rows = pa.array(rows[1:], pa.int64())
    columns: dict[str, pa.Array] = {}
    for col in RAW_SALES_COLUMNS:
        values = pc.take(cells[positions[col]], data_rows)
        if col in DATE_COLUMNS:
            values = sheet_dates(values)
        elif col in NUMBER_COLUMNS:
            values = sheet_numbers(values)
        columns[col] = values
    return XlsxFile(path, header, [c for c in extra if c], columns)


def _array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


