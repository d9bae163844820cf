"""Bytes -> columns: sniff encoding, delimiter and header, then stream the rows in chunks.

What a caller must know:

- `open_csv` reads the whole file once up front (bounded memory, ~1 s per GB) to decide the
  encoding: valid UTF-8 -> "utf-8" ("utf-8-sig" with a BOM), else Windows-1252 ("cp1252").
  NUL bytes, or bytes that are neither, reject the file as binary before any row is read.
  A file that is not UTF-8 but holds UTF-8 letters ("Ã§" is "ç" in UTF-8) mixes encodings
  (two exports pasted together): it is rejected, naming the first line that does not
  decode as UTF-8, rather than read with one of its halves garbled. The same pass refuses a
  line longer than `Limits.record_bytes`, before any reader builds it in memory.
- The delimiter is sniffed from the header record: "," or ";". A ";" file is a pt-BR
  spreadsheet export, so its numbers use a decimal comma (`CsvFile.decimal_comma`).
- Header cells are matched to the 24 columns by their human or snake_case names, trimmed
  and case-insensitively, in any order. Unknown columns are ignored and listed in
  `extra_columns`; a missing or repeated column rejects the file.
- Row numbers count data records (1 = first record after the header). Empty lines are not
  records; a quoted field may span lines, so a row number is not a line number.
- A record with the wrong number of fields is not a file error: it becomes a rejected row
  ("row has N fields, header has M"), see `Chunk.malformed`.

Trade-off: pyarrow's CSV reader parses ~1.4 M rows/s here, the csv module ~130 k rows/s. So
chunks come from pyarrow, and the csv module is the fallback: pyarrow cannot say *where* a
record with the wrong field count was (its row number is unknown once quoted fields may
hold newlines), so on the first such record - or any pyarrow error - the rest of the file is
re-read with the csv module from the first record not yet handed out. Both follow the same
quoting rules (RFC 4180, doubled quotes, quotes inside unquoted fields kept literally).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from loader.columns import RAW_SALES_COLUMNS, column_for_header
from loader.limits import DEFAULT_LIMITS, Limits

DELIMITERS = (",", ";")
_SCAN_BLOCK = 1 << 20
_HEAD_BYTES = 1 << 20
_ARROW_BLOCK = 4 << 20
_CP1252_UNDEFINED = bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D])


class FileRejected(Exception):
    """The file as a whole cannot be loaded; `reason` is one readable line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Chunk:
    """Consecutive data rows of one file, column-wise, text exactly as sent."""

    first_row_number: int
    n_rows: int
    columns: Mapping[str, list[str]]
    # Index within the chunk -> the fields of a record whose field count differs from the
    # header's (its entries in `columns` are ''); `validate_chunk` rejects those rows.
    malformed: dict[int, list[str]] = field(default_factory=dict)
    # Header cell (as sent) per field position, to label the fields of malformed rows.
    header: list[str] = field(default_factory=list)
    # The same columns as pyarrow arrays when the chunk came from pyarrow (saves a copy).
    arrow: dict[str, pa.Array] | None = field(default=None, repr=False, compare=False)


@dataclass
class CsvFile:
    """A sniffed sales CSV file; `chunks()` streams its rows."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    positions: dict[str, int]  # snake column -> field position in the header
    extra_columns: list[str]

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter == ";"

    def chunks(self, rows: int = 50_000) -> Iterator[Chunk]:
        """Data rows in chunks of `rows` (the last may be shorter; none for a header-only file).

        May raise FileRejected part-way, e.g. for a field too long to be CSV.
        """
        if rows < 1:
            raise ValueError("rows must be >= 1")
        handed_out = 0
        try:
            for chunk in self._arrow_chunks(rows):
                handed_out += chunk.n_rows
                yield chunk
            return
        except pa.ArrowException:
            pass  # resume below with the csv module, after the rows already handed out
        yield from self._csv_module_chunks(rows, skip=handed_out)

    # -- pyarrow: the fast path -------------------------------------------------------------

    def _arrow_chunks(self, rows: int) -> Iterator[Chunk]:
        width = len(self.header)
        names = [f"c{i}" for i in range(width)]
        wanted = {col: f"c{pos}" for col, pos in self.positions.items()}

        def on_invalid_row(_row: object) -> str:
            return "error"  # pyarrow cannot place the record; the csv module takes over

        reader = pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(
                column_names=names,  # the header is read as a data record and dropped
                block_size=_ARROW_BLOCK,
                encoding="utf8" if self.encoding.startswith("utf-8") else self.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in wanted.values()},
                include_columns=list(wanted.values()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                # `open_csv` has read the whole file as this encoding already; checking it
                # again cost 0.06 s per million rows.
                check_utf8=False,
            ),
        )
        pending: list[pa.RecordBatch] = []
        n_pending = 0
        next_row = 1
        skip_header = True
        for batch in reader:
            if skip_header:
                batch, skip_header = batch.slice(1), False
            if batch.num_rows == 0:
                continue
            pending.append(batch)
            n_pending += batch.num_rows
            while n_pending >= rows:
                table = pa.Table.from_batches(pending)
                yield _arrow_chunk(table.slice(0, rows), wanted, next_row, self.header)
                next_row += rows
                rest = table.slice(rows)
                pending, n_pending = rest.to_batches(), rest.num_rows
        if n_pending:
            yield _arrow_chunk(pa.Table.from_batches(pending), wanted, next_row, self.header)

    # -- csv module: the exact, slower path ---------------------------------------------------

    def _csv_module_chunks(self, rows: int, skip: int) -> Iterator[Chunk]:
        width = len(self.header)
        order = [(col, self.positions[col]) for col in RAW_SALES_COLUMNS]
        next_row = skip + 1
        try:
            with open(self.path, encoding=self.encoding, newline="") as fh:
                records = (r for r in csv.reader(fh, delimiter=self.delimiter, strict=False) if r)
                next(records, None)  # header
                for _ in itertools.islice(records, skip):
                    pass
                while True:
                    batch = list(itertools.islice(records, rows))
                    if not batch:
                        return
                    columns: dict[str, list[str]] = {col: [] for col in RAW_SALES_COLUMNS}
                    malformed: dict[int, list[str]] = {}
                    for i, record in enumerate(batch):
                        if len(record) != width:
                            malformed[i] = record
                            for col, _ in order:
                                columns[col].append("")
                            continue
                        for col, pos in order:
                            columns[col].append(record[pos])
                    yield Chunk(next_row, len(batch), columns, malformed, list(self.header))
                    next_row += len(batch)
        except csv.Error as exc:
            raise FileRejected(_csv_error(exc)) from exc
        except UnicodeDecodeError as exc:  # the file changed since it was scanned
            raise FileRejected(f"binary content: not {self.encoding} text") from exc


class ArrowColumns(Mapping[str, list[str]]):
    """`Chunk.columns` of a pyarrow chunk: a column becomes Python strings only when asked
    for. The loader's hot path reads the Arrow arrays and asks only for `sale_id`, which
    saves ~1 s per million rows."""

    def __init__(self, arrays: dict[str, pa.Array]) -> None:
        self._arrays = arrays
        self._lists: dict[str, list[str]] = {}

    def __getitem__(self, col: str) -> list[str]:
        if col not in self._lists:
            self._lists[col] = _to_list(self._arrays[col], col != "sale_id")
        return self._lists[col]

    def __iter__(self) -> Iterator[str]:
        return iter(RAW_SALES_COLUMNS)

    def __len__(self) -> int:
        return len(RAW_SALES_COLUMNS)


def _arrow_chunk(table: pa.Table, wanted: dict[str, str], first: int, header: list[str]) -> Chunk:
    arrays = {col: table.column(name).combine_chunks() for col, name in wanted.items()}
    return Chunk(first, table.num_rows, ArrowColumns(arrays), {}, list(header), arrays)


def _to_list(arr: pa.Array, repetitive: bool) -> list[str]:
    """Python strings of a column; a column with few distinct values converts each once
    (about 3x faster than `to_pylist` for statuses, categories, dates)."""
    if repetitive and len(arr) > 1000:
        encoded = pc.dictionary_encode(arr)
        if len(encoded.dictionary) * 4 < len(arr):
            values = np.array(encoded.dictionary.to_pylist(), dtype=object)
            return values[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    return arr.to_pylist()


def open_csv(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> CsvFile:
    """Sniff a sales file; raises FileRejected when it is empty, binary, mixes encodings,
    has a line over the record limit or is not usable CSV."""
    path = Path(path)
    # The csv module's own field limit (process-wide, 128 KiB by default) becomes the record
    # limit: a field may be as long as a line; LOADER_MAX_FIELD_BYTES is checked per chunk.
    csv.field_size_limit(limits.record_bytes)
    encoding = _sniff_encoding(path, limits.record_bytes)
    header, delimiter = _read_header(path, encoding)
    positions, extra = match_header(header)
    return CsvFile(path, encoding, delimiter, header, positions, extra)


def match_header(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """(snake column -> position, extra header cells) for a header record of any format;
    raises FileRejected for a missing or repeated column."""
    positions: dict[str, int] = {}
    extra: list[str] = []
    repeated: list[str] = []
    for pos, cell in enumerate(header):
        col = column_for_header(cell)
        if col is None:
            extra.append(cell.strip())
        elif col in positions:
            repeated.append(col)
        else:
            positions[col] = pos
    if repeated:
        raise FileRejected(f"repeated column(s): {', '.join(dict.fromkeys(repeated))}")
    missing = [col for col in RAW_SALES_COLUMNS if col not in positions]
    if missing:
        raise FileRejected(f"missing required column(s): {', '.join(missing)}")
    return positions, extra


class _Lines:
    """The longest line, checked block by block as the file streams. Newlines are counted only
    to name a line that is too long, by reading the file again up to it: counting them in
    every block made the first pass take 0.13 s instead of 0.04 s on a 1,000,000-row file."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.seen = 0  # bytes in earlier blocks
        self.open = 0  # bytes since the last newline

    def feed(self, block: bytes) -> None:
        first = block.find(b"\n")
        if first < 0:
            self._check(self.open + len(block), self.seen - self.open)
            self.open += len(block)
            self.seen += len(block)
            return
        self._check(self.open + first, self.seen - self.open)
        if len(block) > self.limit:  # lines inside the block may be long too
            ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            gaps = np.diff(ends) - 1
            if len(gaps) and gaps.max() > self.limit:
                i = int(gaps.argmax())
                self._check(int(gaps[i]), self.seen + int(ends[i]) + 1)
        last = block.rfind(b"\n")
        self.open = len(block) - last - 1
        self._check(self.open, self.seen + last + 1)
        self.seen += len(block)

    def _check(self, length: int, start: int) -> None:
        """`length` bytes of the line that begins at byte `start` of the file."""
        if length > self.limit:
            raise FileRejected(f"line {self._number(start)} is longer than the limit of "
                               f"{self.limit:,} bytes (LOADER_MAX_RECORD_BYTES)")

    def _number(self, start: int) -> int:
        newlines = 0
        with open(self.path, "rb") as fh:
            while start > 0 and (block := fh.read(min(_SCAN_BLOCK, start))):
                newlines += block.count(b"\n")
                start -= len(block)
        return newlines + 1


def _refuse_mixed(path: Path) -> None:
    """A file that is not UTF-8 as a whole but has whole lines of non-ASCII UTF-8 ("Maçã"
    as C3 A7 C3 A3) is two exports pasted together; read as Windows-1252 its UTF-8 half would
    be garbled ("MaÃ§Ã£"), so it is refused. Lines are bounded by the record limit, checked
    in the first pass."""
    utf8_line = not_utf8_line = None
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                not_utf8_line = not_utf8_line or number
            else:
                utf8_line = utf8_line or number
            if utf8_line and not_utf8_line:
                raise FileRejected(
                    f"mixed encodings: line {utf8_line} is UTF-8 but line {not_utf8_line} does "
                    "not decode as UTF-8 (re-export the whole file as UTF-8)")


def _cp1252_bytes(block: bytes) -> bool:
    return len(block.translate(None, _CP1252_UNDEFINED)) == len(block)


def _cp1252_prefix(path: Path, size: int) -> bool:
    """Whether the first `size` bytes are Windows-1252 text. Asked only once the file is known
    not to be UTF-8 (in its first non-UTF-8 block, usually the first): checking every block
    of every file cost 0.17 s per million upstream rows, as much as the UTF-8 check."""
    with open(path, "rb") as fh:
        while size > 0 and (block := fh.read(min(_SCAN_BLOCK, size))):
            size -= len(block)
            if not _cp1252_bytes(block):
                return False
    return True


def _sniff_encoding(path: Path, record_bytes: int = DEFAULT_LIMITS.record_bytes) -> str:
    """One streaming pass: NUL bytes or undecodable bytes mean binary; UTF-8 letters in a
    file that is not UTF-8 mean mixed encodings; a line over `record_bytes` is refused."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8, is_cp1252, size, first = True, True, 0, b""
    lines = _Lines(path, record_bytes)
    with open(path, "rb") as fh:
        while block := fh.read(_SCAN_BLOCK):
            if not size:
                first = block[:3]
            size += len(block)
            if b"\x00" in block:
                raise FileRejected("binary content: NUL bytes")
            if is_utf8:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    is_utf8 = False
                    is_cp1252 = _cp1252_prefix(path, size)
            elif is_cp1252:
                is_cp1252 = _cp1252_bytes(block)
            lines.feed(block)
            if not (is_utf8 or is_cp1252):
                break
    if size == 0:
        raise FileRejected("empty file (0 bytes)")
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
            is_cp1252 = _cp1252_prefix(path, size)
    if is_utf8:
        return "utf-8-sig" if first == codecs.BOM_UTF8 else "utf-8"
    if is_cp1252:
        _refuse_mixed(path)
        return "cp1252"
    raise FileRejected("binary content: neither UTF-8 nor Windows-1252 text")


def _csv_error(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        # A quoted field spanning many short lines: the line scan cannot see it.
        return (f"a quoted field is longer than the limit of {csv.field_size_limit():,} bytes"
                " (LOADER_MAX_RECORD_BYTES)")
    return f"not a CSV file: {exc}"


def _read_header(path: Path, encoding: str) -> tuple[list[str], str]:
    """The first non-empty record, split with whichever delimiter names more known columns."""
    with open(path, "rb") as fh:
        head_bytes = fh.read(_HEAD_BYTES)
        truncated = bool(fh.read(1))
    head = codecs.getincrementaldecoder(encoding)().decode(head_bytes, final=not truncated)
    candidates = []
    error = csv.Error()
    for delimiter in DELIMITERS:
        try:
            record = next(
                (
                    r
                    for r in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter, strict=False)
                    if r
                ),
                None,
            )
        except csv.Error as exc:
            error = exc
            continue  # e.g. the whole header is one field with the other delimiter
        if record is None:
            raise FileRejected("no header: the file has no text")
        known = sum(column_for_header(cell) is not None for cell in record)
        candidates.append((known, len(record), delimiter, record))
    if not candidates:
        raise FileRejected(_csv_error(error))
    known, width, delimiter, record = max(candidates, key=lambda c: (c[0], c[1]))
    if truncated and sum(map(len, record)) + width >= len(head) // 2:
        raise FileRejected("not a CSV file: no header record in the first 1 MiB")
    if width < 2:
        raise FileRejected("not a CSV file: the header has one column (no ',' or ';' separator)")
    return record, delimiter
