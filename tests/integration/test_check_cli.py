"""`salespipe check` as a person runs it: the real CLI in a subprocess, offline, on files in
every accepted format; expected figures are computed here from the rows written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.formats_support import encrypted_zip, excel_row, to_gz, to_xlsx, to_zip
from tests.integration.loader_support import SNAKE, sale, to_csv

SALESPIPE = str(Path(sys.executable).parent / "salespipe")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Services that do not exist: check must not need any of them.
OFFLINE = {
    "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "1", "BOOTSTRAP_SERVERS": "127.0.0.1:1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "y",
}


def run_check(*args: str, lang: str = "C.UTF-8", **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"LANG", "LC_ALL", "LC_MESSAGES"}}
    return subprocess.run([SALESPIPE, "check", *args], capture_output=True, text=True, timeout=120,
                          env={**base, **OFFLINE, "LANG": lang, **env})


def check_json(*paths: Path) -> tuple[int, dict]:
    proc = run_check("--format", "json", *map(str, paths))
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def expected_kpis(rows: list[dict[str, str]]) -> dict:
    """The marts' definitions, by hand: canceled sales excluded, ticket rounded to cents."""
    counted = [r for r in rows if r["payment_status"] != "Canceled"]
    total = sum((Decimal(r["total_value"]) for r in counted), Decimal(0))
    units: dict[str, int] = {}
    sales: dict[str, Decimal] = {}
    for r in counted:
        units[r["product_name"]] = units.get(r["product_name"], 0) + int(r["quantity_sold"])
        sales[r["product_name"]] = sales.get(r["product_name"], 0) + Decimal(r["total_value"])
    return {
        "total_sales": total,
        "transactions": len(counted),
        "avg_ticket": (total / len(counted)).quantize(Decimal("0.01"), ROUND_HALF_UP),
        "units_sold": sum(units.values()),
        "top": sorted(units.items(), key=lambda kv: (-kv[1], -sales[kv[0]], kv[0]))[:5],
    }


def as_expected(kpis: dict) -> dict:
    return {"total_sales": Decimal(kpis["total_sales"]), "transactions": kpis["transactions"],
            "avg_ticket": Decimal(kpis["avg_ticket"]), "units_sold": kpis["units_sold"],
            "top": [(p["product_name"], p["units_sold"]) for p in kpis["top_products"]]}


ROWS = [
    sale("S1", qty=3, price="19.99", discount="15", product_name="Café"),
    sale("S2", quantity_sold="0", product_name="Café"),                       # rejected
    sale("S3", qty=5, price="10.00", discount="0", product_name="Chá"),
    sale("S4", qty=7, status="Canceled", product_name="Chá"),                  # not counted
    sale("S1", qty=1, product_name="Café"),                                    # duplicate
    sale("S5", qty=2, price="7.50", discount="0", product_name="Pão", sale_date="2026-02-30"),
    sale("S6", qty=1, price="250.00", discount="0", product_name="Queijo"),
]
VALID = [ROWS[i] for i in (0, 2, 3, 6)]


def xlsx_of(rows: list[dict[str, str]]) -> bytes:
    sheet = []
    for r in rows:
        line = excel_row(dict(r, sale_date="2026-03-01", quantity_sold="1"))
        if r["sale_date"] == "2026-02-30":
            line[0] = "2026-02-30"  # no Excel date for it: the text as typed
        line[5] = int(r["quantity_sold"])
        sheet.append(line)
    return to_xlsx(sheet, human=False)


@pytest.mark.parametrize(("name", "make"), [
    ("vendas.csv", lambda: to_csv(ROWS)),
    ("vendas.csv.gz", lambda: to_gz(to_csv(ROWS, human=True))),
    ("vendas.zip", lambda: to_zip({"vendas.csv": to_csv(ROWS, encoding="cp1252")})),
    ("vendas.xlsx", lambda: xlsx_of(ROWS)),
])
def test_check_reports_rejected_rows_by_reason_and_kpis_of_valid_rows(tmp_path, name, make):
    path = tmp_path / name
    path.write_bytes(make())
    code, report = check_json(path)
    assert code == 1 and report["clean"] is False
    (f,) = report["files"]
    assert f["verdict"] == "rows_rejected"
    assert f["rows"] == {"total": 7, "valid": 4, "rejected": 3}
    assert {r["reason"]: r["row_numbers"] for r in f["rejected_by_reason"]} == {
        "quantity_sold: not a whole number >= 1": [2],
        "sale_id: duplicate in file": [5],
        "sale_date: not a date (YYYY-MM-DD)": [6],
    }
    assert as_expected(f["kpis"]) == expected_kpis(VALID)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # nothing left behind


def test_clean_file_exits_zero_with_its_kpis(tmp_path):
    rows = [sale(f"S{i}", qty=1 + i % 4, product_name=f"P{i % 3}",
                 status="Canceled" if i % 5 == 0 else "Paid") for i in range(40)]
    path = tmp_path / "clean.csv"
    path.write_bytes(to_csv(rows, human=True))
    code, report = check_json(path)
    assert code == 0 and report["clean"] is True
    (f,) = report["files"]
    assert (f["verdict"], f["rows"], f["rejected_by_reason"]) == (
        "clean", {"total": 40, "valid": 40, "rejected": 0}, [])
    assert as_expected(f["kpis"]) == expected_kpis(rows)


def test_broken_fixture_files_get_the_loader_verdicts(tmp_path):
    locked = tmp_path / "locked.zip"
    locked.write_bytes(encrypted_zip("a.csv", to_csv([sale("S1")])))
    paths = [FIXTURES / "binary_garbage.csv", FIXTURES / "missing_unit_price.csv",
             FIXTURES / "header_only.csv", FIXTURES / "ptbr_cp1252_semicolon.csv", locked]
    code, report = check_json(*paths)
    assert code == 1
    got = {Path(f["file"]).name: (f["verdict"], f["reason"]) for f in report["files"]}
    assert got["binary_garbage.csv"][0] == "file_rejected"
    assert "binary content" in got["binary_garbage.csv"][1]
    assert got["missing_unit_price.csv"] == ("file_rejected",
                                             "missing required column(s): unit_price")
    assert got["header_only.csv"] == ("clean", None)
    assert got["locked.zip"][0] == "file_rejected" and "encrypted zip" in got["locked.zip"][1]
    ptbr = report["files"][3]
    assert ptbr["rejected_by_reason"] == [
        {"reason": "unit_price: not a number >= 0", "rows": 1, "row_numbers": [2]}]
    # rows 1 (2 x 1.234,56 = 2.469,12) and 3 (Pending: counted) of the fixture, by hand
    assert ptbr["kpis"]["total_sales"] == "2839.12" and ptbr["kpis"]["units_sold"] == 6


def test_text_report_lists_row_numbers_and_exit_code(tmp_path):
    path = tmp_path / "v.csv"
    path.write_bytes(to_csv(ROWS))
    proc = run_check(str(path))
    assert proc.returncode == 1 and proc.stderr == ""
    assert "quantity_sold: not a whole number >= 1 - 1 row(s): 2" in proc.stdout
    total = expected_kpis(VALID)["total_sales"]
    assert f"total sales: R$ {total:,.2f}" in proc.stdout
    assert proc.stdout.rstrip().endswith("1 file(s) checked: 1 with problems")


def test_messages_are_pt_br_when_the_locale_is(tmp_path):
    path = tmp_path / "v.xlsx"
    path.write_bytes(xlsx_of(ROWS))
    proc = run_check(str(path), lang="pt_BR.UTF-8")
    total = expected_kpis(VALID)["total_sales"]
    pt_total = f"{total:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert "seria carregado com linhas rejeitadas" in proc.stdout
    assert "quantity_sold: não é um número inteiro >= 1 - 1 linha(s): 2" in proc.stdout
    assert f"vendas totais: R$ {pt_total}" in proc.stdout
    english = run_check(str(path), lang="pt_BR.UTF-8", LC_ALL="en_US.UTF-8")
    assert "would load with rejected rows" in english.stdout
    via_messages = run_check(str(path), LC_MESSAGES="pt_BR")
    assert "seria carregado com linhas rejeitadas" in via_messages.stdout


def test_usage_errors_exit_two_with_one_line(tmp_path):
    missing = run_check(str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [
        f"salespipe check: error: cannot read {tmp_path / 'nope.csv'}: No such file or directory"]
    assert run_check().returncode == 2
    assert run_check("--format", "xml", str(FIXTURES / "header_only.csv")).returncode == 2


def test_unknown_extension_is_a_file_verdict_not_a_usage_error(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF-1.7")
    code, report = check_json(path)
    assert code == 1
    assert report["files"][0]["verdict"] == "file_rejected"
    assert "unsupported file type '.pdf'" in report["files"][0]["reason"]


def test_control_characters_from_the_file_never_reach_the_terminal_raw(tmp_path):
    fake = f"{tmp_path / 'other.csv'}: would load cleanly"
    extra = "note\x1b[31m\r\nX"
    name = f"Café\x1b[2J\x1b[H\n{fake}\u202e"
    rows = [sale("S1", product_name=name), sale("S2")]
    path = tmp_path / "hostile.csv"
    path.write_bytes(to_csv(rows, columns=[*SNAKE, extra]))
    proc = run_check(str(path))
    assert proc.stderr == ""
    assert not any(ch in proc.stdout for ch in "\x1b\r\u202e")
    lines = proc.stdout.splitlines()
    assert not any(line.startswith(fake) for line in lines)  # no line of the file's making
    assert lines[0] == f"{path}: would load cleanly"
    assert "  extra columns (ignored): note\\u001b[31m\\r\\nX" in lines
    assert f"      1. Café\\u001b[2J\\u001b[H\\n{fake}\\u202e: 2 units, R$ 180.00" in lines

    as_json = run_check("--format", "json", str(path))
    assert not any(ch in as_json.stdout for ch in "\x1b\r\u202e")
    report = json.loads(as_json.stdout)["files"][0]  # escaped for the terminal, same text
    assert report["kpis"]["top_products"][0]["product_name"] == name
    assert report["extra_columns"] == [extra]
