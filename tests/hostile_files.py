"""A hostile corpus, made in the test run (nothing large is committed): files an attacker or
a careless exporter sends. Each returns bytes (or writes a path) for the loader to face."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

from tests.integration.loader_support import HUMAN, SNAKE, sale, to_csv

_OX = "http://schemas.openxmlformats.org"
_DOC = f"{_OX}/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_OX}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_OX}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_OX}/spreadsheetml/2006/main" xmlns:r="{_DOC}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_OX}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_NS = f'xmlns="{_OX}/spreadsheetml/2006/main"'


def _xlsx(sheet_xml: str, shared_strings: list[str]) -> bytes:
    sst = "".join(f"<si><t>{s}</t></si>" for s in shared_strings)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/sharedStrings.xml",
                    f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="{len(shared_strings)}" '
                    f'uniqueCount="{len(shared_strings)}">{sst}</sst>')
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def _sheet(rows_xml: str, dimension: str | None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}>{dim}'
            f"<sheetData>{rows_xml}</sheetData></worksheet>")


def _col(n: int) -> str:
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _header_row() -> str:
    cells = "".join(f'<c r="{_col(i + 1)}1" t="s"><v>{i}</v></c>' for i in range(len(HUMAN)))
    return f'<row r="1">{cells}</row>'


def xlsx_far_cell(*, declare: bool = True) -> bytes:
    """A few KB: the header and one cell at XFD1048576 (the last cell a sheet can have).
    `declare=False` leaves the <dimension> out, so only the cell itself tells the size."""
    rows = _header_row() + '<row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>'
    return _xlsx(_sheet(rows, "A1:XFD1048576" if declare else None), list(HUMAN))


def xlsx_huge_shared_string(size: int = 10 << 20, cells: int = 4_800) -> bytes:
    """A small workbook whose one shared string of `size` bytes fills `cells` cells."""
    strings = [*HUMAN, "A" * size]
    big = len(HUMAN)
    per_row = len(HUMAN)
    rows = [_header_row()]
    for r in range(cells // per_row):
        c = "".join(f'<c r="{_col(i + 1)}{r + 2}" t="s"><v>{big}</v></c>' for i in range(per_row))
        rows.append(f'<row r="{r + 2}">{c}</row>')
    last = cells // per_row + 1
    return _xlsx(_sheet("".join(rows), f"A1:{_col(per_row)}{last}"), strings)


def xlsx_many_rows(n_rows: int, *, declare: bool = True) -> bytes:
    """A workbook of `n_rows` identical data rows (inline numbers/shared strings)."""
    row = sale("S-0")
    strings = [*HUMAN, *(row[c] for c in SNAKE)]
    body = "".join(f'<c r="{_col(i + 1)}{{r}}" t="s"><v>{len(HUMAN) + i}</v></c>'
                   for i in range(len(SNAKE)))
    rows = [_header_row()]
    rows.extend(f'<row r="{r}">{body.replace("{r}", str(r))}</row>' for r in range(2, n_rows + 2))
    dim = f"A1:{_col(len(SNAKE))}{n_rows + 1}" if declare else None
    return _xlsx(_sheet("".join(rows), dim), strings)


def gzip_bomb(unpacked: int = 5 << 30) -> bytes:
    """A small .csv.gz that unpacks to `unpacked` bytes: one compressed MiB of a CSV-looking
    line repeated as gzip members (readers concatenate members), so it is made in a moment."""
    header = to_csv([])
    block = (b"a," * (1 << 19))[: 1 << 20]
    member = gzip.compress(block, compresslevel=9)
    return gzip.compress(header) + member * (unpacked // len(block))


def zip_bomb(unpacked: int = 5 << 30, *, honest: bool = True) -> bytes:
    """A .zip whose one CSV member unpacks to `unpacked` bytes, written as a stream of one
    compressed block repeated (deflate streams can be concatenated at block boundaries only
    through a real compressor, so this builds it with one)."""
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\n" * (1 << 20)
    parts = [comp.compress(to_csv([]))]
    one = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    n = unpacked // len(chunk)
    parts.append(one)
    repeated = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    parts.extend([repeated] * (n - 1))
    parts.append(comp.flush())
    data = b"".join(parts)
    crc = 0  # a liar's zip may carry any CRC; the reader must stop at the size limit first
    size = unpacked if honest else 100
    name = b"sales.csv"
    local = (b"PK\x03\x04" + (20).to_bytes(2, "little") + b"\x00\x00" + (8).to_bytes(2, "little")
             + b"\x00\x00\x00\x00" + crc.to_bytes(4, "little") + len(data).to_bytes(4, "little")
             + min(size, 0xFFFFFFFF).to_bytes(4, "little") + len(name).to_bytes(2, "little")
             + b"\x00\x00" + name)
    central = (b"PK\x01\x02" + (20).to_bytes(2, "little") + (20).to_bytes(2, "little") + b"\x00\x00"
               + (8).to_bytes(2, "little") + b"\x00\x00\x00\x00" + crc.to_bytes(4, "little")
               + len(data).to_bytes(4, "little") + min(size, 0xFFFFFFFF).to_bytes(4, "little")
               + len(name).to_bytes(2, "little") + b"\x00" * 8 + b"\x00\x00\x00\x00"
               + (0).to_bytes(4, "little") + name)
    end = (b"PK\x05\x06" + b"\x00" * 4 + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
           + len(central).to_bytes(4, "little") + (len(local) + len(data)).to_bytes(4, "little")
           + b"\x00\x00")
    return local + data + central + end


def one_long_line_gz(commas: int = 200_000_000) -> bytes:
    """A .csv.gz whose second line is `commas` commas (a record no reader should build)."""
    return gzip.compress(to_csv([]) + b"," * commas + b"\n", compresslevel=6)


def mixed_encodings() -> bytes:
    """UTF-8 rows, then a row in Windows-1252: what pasting two exports together gives."""
    utf8 = to_csv([sale("M-1", product_name="Maçã")])
    cp1252 = to_csv([sale("M-2", product_name="Pão de açúcar")], encoding="cp1252")
    return utf8 + cp1252.split(b"\r\n", 1)[1]


def write(path: Path, body: bytes) -> Path:
    path.write_bytes(body)
    return path
