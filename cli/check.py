"""`salespipe check FILE...`: the loader's verdict on local files, before anyone uploads them.

Offline on purpose (no S3, Kafka or PostgreSQL): a person fixing an export should get the
answer the loader would give, in a second. So the file is opened and validated by the very
functions the loader calls (`loader.formats.open_sales_file`, `loader.validate.validate_chunk`),
chunk by chunk, and only the report is new: counts, rejected rows grouped by reason, and the
KPIs the valid rows would add, computed as the marts define them (a sale counts unless its
payment status is Canceled; total sales = sum of total_value; average ticket rounded to cents).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loader.formats import file_kind, open_sales_file
from loader.load import CHUNK_ROWS
from loader.parse import FileRejected
from loader.validate import validate_chunk
from salespipe.logs import escape_unprintable

TOP_PRODUCTS = 5
ROW_NUMBERS_SHOWN = 20
_FIRST_AT = re.compile(r" \(first at row [0-9]+\)$")

CLEAN, ROWS_REJECTED, FILE_REJECTED = "clean", "rows_rejected", "file_rejected"


@dataclass
class Kpis:
    """What the valid rows add to the marts (canceled sales excluded)."""

    total_sales: Decimal = Decimal(0)
    transactions: int = 0
    units_sold: int = 0
    products: dict[str, list[Any]] = field(default_factory=dict)  # name -> [units, sales]

    def add(self, valid: pa.Table) -> None:
        counted = valid.filter(pc.not_equal(valid.column("payment_status"), "Canceled"))
        names = counted.column("product_name").to_pylist()
        units = [int(q) for q in counted.column("quantity_sold").to_pylist()]
        sales = [Decimal(v) for v in counted.column("total_value").to_pylist()]
        self.transactions += counted.num_rows
        self.units_sold += sum(units)
        self.total_sales += sum(sales, Decimal(0))
        for name, q, v in zip(names, units, sales, strict=True):
            entry = self.products.setdefault(name, [0, Decimal(0)])
            entry[0] += q
            entry[1] += v

    @property
    def avg_ticket(self) -> Decimal | None:
        if not self.transactions:
            return None
        return (self.total_sales / self.transactions).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def top_products(self, n: int = TOP_PRODUCTS) -> list[tuple[str, int, Decimal]]:
        """By units sold, then sales, then name (as the dashboard ranks them)."""
        ranked = sorted(self.products.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        return [(name, units, sales) for name, (units, sales) in ranked[:n]]


@dataclass
class FileReport:
    path: str
    verdict: str
    kind: str | None = None
    reason: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    rows_valid: int = 0
    rows_rejected: int = 0
    rejected_rows: dict[str, list[int]] = field(default_factory=dict)  # reason -> row numbers
    kpis: Kpis = field(default_factory=Kpis)

    def as_dict(self) -> dict[str, Any]:
        k = self.kpis
        avg = k.avg_ticket
        return {
            "file": self.path,
            "verdict": self.verdict,
            "reason": self.reason,
            "format": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "extra_columns": self.extra_columns,
            "rows": {"total": self.rows_valid + self.rows_rejected, "valid": self.rows_valid,
                     "rejected": self.rows_rejected},
            "rejected_by_reason": [
                {"reason": reason, "rows": len(numbers), "row_numbers": numbers}
                for reason, numbers in self.rejected_rows.items()
            ],
            "kpis": {
                "total_sales": str(k.total_sales),
                "transactions": k.transactions,
                "avg_ticket": None if avg is None else str(avg),
                "units_sold": k.units_sold,
                "top_products": [
                    {"product_name": name, "units_sold": units, "total_sales": str(sales)}
                    for name, units, sales in k.top_products()
                ],
            },
        }


def check_file(path: Path) -> FileReport:
    """The loader's verdict on one local file (raises OSError only for an unreadable path)."""
    report = FileReport(str(path), CLEAN)
    try:
        report.kind = file_kind(path.name)
        with open(path, "rb"):
            pass  # a missing or unreadable path is the caller's error, not the file's
        with open_sales_file(path) as f:
            report.encoding, report.delimiter = f.encoding, f.delimiter
            report.extra_columns = list(f.extra_columns)
            seen: dict[str, int] = {}
            rejected: defaultdict[str, list[int]] = defaultdict(list)
            for chunk in f.chunks(CHUNK_ROWS):
                result = validate_chunk(chunk, decimal_comma=f.decimal_comma, seen_sale_ids=seen)
                report.rows_valid += result.n_valid
                report.rows_rejected += len(result.rejected)
                report.kpis.add(result.valid)
                for row in result.rejected:
                    for reason in row.reasons:
                        rejected[_FIRST_AT.sub("", reason)].append(row.row_number)
    except FileRejected as exc:
        return FileReport(str(path), FILE_REJECTED, report.kind, exc.reason)
    report.rejected_rows = dict(sorted(rejected.items(), key=lambda kv: (-len(kv[1]), kv[0])))
    report.verdict = ROWS_REJECTED if report.rows_rejected else CLEAN
    return report


# -- rendering --------------------------------------------------------------------------------

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        CLEAN: "would load cleanly",
        ROWS_REJECTED: "would load with rejected rows",
        FILE_REJECTED: "would be rejected as a whole",
        "reason": "reason",
        "format": "format",
        "extra": "extra columns (ignored)",
        "rows": "rows: {total} ({valid} valid, {rejected} rejected)",
        "by_reason": "rejected rows by reason:",
        "n_rows": "{n} row(s)",
        "more": "and {n} more",
        "kpis": "KPIs of the valid rows (canceled sales excluded):",
        "total_sales": "total sales",
        "transactions": "transactions",
        "avg_ticket": "average ticket",
        "units": "units sold",
        "top": "top products by units:",
        "top_line": "{name}: {units} units, {sales}",
        "summary_ok": "{n} file(s) checked: all would load cleanly",
        "summary_bad": "{n} file(s) checked: {bad} with problems",
    },
    "pt-BR": {
        CLEAN: "seria carregado sem erros",
        ROWS_REJECTED: "seria carregado com linhas rejeitadas",
        FILE_REJECTED: "seria rejeitado por inteiro",
        "reason": "motivo",
        "format": "formato",
        "extra": "colunas extras (ignoradas)",
        "rows": "linhas: {total} ({valid} válidas, {rejected} rejeitadas)",
        "by_reason": "linhas rejeitadas por motivo:",
        "n_rows": "{n} linha(s)",
        "more": "e mais {n}",
        "kpis": "KPIs das linhas válidas (vendas canceladas excluídas):",
        "total_sales": "vendas totais",
        "transactions": "transações",
        "avg_ticket": "valor médio por transação",
        "units": "unidades vendidas",
        "top": "produtos mais vendidos (unidades):",
        "top_line": "{name}: {units} unidades, {sales}",
        "summary_ok": "{n} arquivo(s) verificado(s): todos seriam carregados sem erros",
        "summary_bad": "{n} arquivo(s) verificado(s): {bad} com problemas",
    },
}

# Reason texts are stable English (they are stored in raw); pt-BR readers get them translated
# phrase by phrase, column names unchanged.
_REASON_PT: tuple[tuple[str, str], ...] = (
    (": empty", ": vazio"),
    (": not a date (YYYY-MM-DD)", ": não é uma data (AAAA-MM-DD)"),
    (": before sale_date", ": anterior a sale_date"),
    (": not a number >= 0", ": não é um número >= 0"),
    (": not a whole number >= 1", ": não é um número inteiro >= 1"),
    (": larger than", ": maior que"),
    (": not a number between 0 and 100", ": não é um número entre 0 e 100"),
    (": not a number", ": não é um número"),
    (": not one of", ": não é um de"),
    (": differs from", ": difere de"),
    (" by more than 0.01", " em mais de 0,01"),
    (": duplicate in file", ": duplicado no arquivo"),
    ("row has ", "a linha tem "),
    (" fields, header has ", " campos, o cabeçalho tem "),
    ("missing required column(s)", "coluna(s) obrigatória(s) ausente(s)"),
    ("repeated column(s)", "coluna(s) repetida(s)"),
    ("unsupported file type", "tipo de arquivo não suportado"),
    ("binary content", "conteúdo binário"),
    ("empty file (0 bytes)", "arquivo vazio (0 bytes)"),
    ("corrupt gzip", "gzip corrompido"),
    ("corrupt zip", "zip corrompido"),
    ("encrypted zip: password-protected archives are not supported",
     "zip criptografado: arquivos protegidos por senha não são aceitos"),
    ("not a readable xlsx workbook", "pasta de trabalho xlsx ilegível"),
    ("no header: the first sheet is empty", "sem cabeçalho: a primeira planilha está vazia"),
    ("expected exactly one CSV", "esperado exatamente um CSV"),
    ("not a CSV file", "não é um arquivo CSV"),
)


def translate_reason(reason: str, lang: str) -> str:
    if lang != "pt-BR":
        return reason
    for en, pt in _REASON_PT:
        reason = reason.replace(en, pt)
    return reason


def render_text(reports: list[FileReport], lang: str) -> str:
    # Counts and amounts in the language's separators (Babel, via dashboard.i18n); row numbers
    # stay bare, like line numbers in an editor.
    from dashboard.i18n import format_money, format_number

    tx = _TEXT[lang]
    out: list[str] = []
    # Every text that comes from a file (its name, cells, header, zip member names inside
    # reasons) goes through `escape_unprintable`: no control character of it reaches the
    # terminal, so a newline in a cell cannot print a fake "would load cleanly" line.
    for r in reports:
        out.append(f"{escape_unprintable(r.path)}: {tx[r.verdict]}")
        if r.verdict == FILE_REJECTED:
            reason = escape_unprintable(translate_reason(r.reason or "", lang))
            out.append(f"  {tx['reason']}: {reason}")
            continue
        details = [r.kind or "", r.encoding or "", f"'{r.delimiter}'" if r.delimiter else ""]
        out.append(f"  {tx['format']}: {escape_unprintable(', '.join(d for d in details if d))}")
        if r.extra_columns:
            out.append(f"  {tx['extra']}: {', '.join(map(escape_unprintable, r.extra_columns))}")
        out.append("  " + tx["rows"].format(
            total=format_number(r.rows_valid + r.rows_rejected, lang),
            valid=format_number(r.rows_valid, lang), rejected=format_number(r.rows_rejected, lang)))
        if r.rejected_rows:
            out.append(f"  {tx['by_reason']}")
            for reason, numbers in r.rejected_rows.items():
                rows = ", ".join(map(str, numbers[:ROW_NUMBERS_SHOWN]))
                if len(numbers) > ROW_NUMBERS_SHOWN:
                    rows += ", " + tx["more"].format(
                        n=format_number(len(numbers) - ROW_NUMBERS_SHOWN, lang))
                count = tx["n_rows"].format(n=format_number(len(numbers), lang))
                reason = escape_unprintable(translate_reason(reason, lang))
                out.append(f"    {reason} - {count}: {rows}")
        k = r.kpis
        avg = k.avg_ticket
        out.append(f"  {tx['kpis']}")
        out.append(f"    {tx['total_sales']}: {format_money(k.total_sales, lang)}")
        out.append(f"    {tx['transactions']}: {format_number(k.transactions, lang)}")
        out.append(f"    {tx['avg_ticket']}: {'-' if avg is None else format_money(avg, lang)}")
        out.append(f"    {tx['units']}: {format_number(k.units_sold, lang)}")
        top = k.top_products()
        if top:
            out.append(f"    {tx['top']}")
            for i, (name, units, sales) in enumerate(top, 1):
                line = tx["top_line"].format(name=escape_unprintable(name),
                                             units=format_number(units, lang),
                                             sales=format_money(sales, lang))
                out.append(f"      {i}. {line}")
    bad = sum(r.verdict != CLEAN for r in reports)
    summary = tx["summary_bad"] if bad else tx["summary_ok"]
    out.append(summary.format(n=format_number(len(reports), lang),
                              bad=format_number(bad, lang)))
    return "\n".join(out)


def render_json(reports: list[FileReport]) -> str:
    """The report as JSON; accents stay readable, but no character a terminal would act on.

    `json.dumps` escapes C0 controls itself, not DEL, C1 controls or bidi overrides; those (and
    whatever else `str.isprintable()` rejects) are written as `\\uXXXX` here, which any JSON
    reader decodes back to the same text.
    """
    text = json.dumps({"clean": all(r.verdict == CLEAN for r in reports),
                       "files": [r.as_dict() for r in reports]}, ensure_ascii=False, indent=2)
    return "".join(ch if ch.isprintable() or ch in "\n " else json.dumps(ch)[1:-1]
                   for ch in text)


def exit_code(reports: list[FileReport]) -> int:
    """0 when every file would load cleanly, 1 when any row or file would be rejected."""
    return 0 if all(r.verdict == CLEAN for r in reports) else 1
