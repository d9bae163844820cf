"""Hostile and careless files through the real loader process: each ends as a rejected file
(or row) with a reason that names its limit, nothing stops the loader, the next good file
loads, and no scratch file outlives its file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests import hostile_files as hostile
from tests.integration.loader_support import (
    consume_all,
    put,
    put_and_announce,
    query,
    sale,
    to_csv,
)
from tests.integration.test_loader_processes import loader_cmd, wait_for

pytestmark = pytest.mark.integration

MIB = 1 << 20


# Linux carries a process's peak RSS across exec, and a child spawned from the test worker
# starts with the worker's own peak (which other tests raise), so the loader is started by a
# small Python process and its peak is the one that process reads with wait4: its own and
# that of any child it waited for, e.g. the xlsx reader.
_PEAK_OF_CHILD = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _peak_rss(cmd: list[str], env: dict[str, str], peak_file) -> tuple[int, str]:
    """Runs `cmd` to its end; its peak RSS in bytes and its stderr (asserting it succeeded)."""
    proc = subprocess.run([sys.executable, "-c", _PEAK_OF_CHILD, str(peak_file), *cmd],
                          env=env, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return int(peak_file.read_text()), proc.stderr


def _run_loader(world, scratch, *args: str, **env: str) -> int:
    """`salespipe load` as its own process until idle; returns its peak RSS in bytes."""
    peak, _ = _peak_rss(loader_cmd(world, "--no-dbt", "--exit-when-idle", "4", *args),
                        {**world.env, "LOADER_SCRATCH_DIR": str(scratch), **env},
                        scratch.with_name(scratch.name + ".peak"))
    return peak


def test_the_peak_is_the_childs_own_not_the_test_workers(tmp_path):
    """The worker holds 600 MiB while an idle child runs, then a child touches 300 MiB: a
    measure that carried the worker's peak over (as a plain wait4 on a spawned child does)
    would read 600 MiB twice."""
    held = bytearray(600 * MIB)
    held[::4096] = b"x" * len(held[::4096])
    idle, _ = _peak_rss([sys.executable, "-c", "pass"], dict(os.environ), tmp_path / "a")
    busy, _ = _peak_rss([sys.executable, "-c", "b = bytearray(300 << 20); b[::4096] = "
                         "b'x' * len(b[::4096])"], dict(os.environ), tmp_path / "b")
    del held
    assert idle < 100 * MIB, idle / MIB
    assert 300 * MIB <= busy < 400 * MIB, busy / MIB


def _files(world) -> dict[str, tuple[str, str | None, int]]:
    rows = query(world, "select key, status, reason, rows_valid from raw.files")
    return {key: (status, reason, n) for key, status, reason, n in rows}


def test_hostile_corpus_is_rejected_with_named_limits_and_the_next_good_file_loads(world, tmp_path):
    corpus = {
        "incoming/far-cell.xlsx": hostile.xlsx_far_cell(),
        "incoming/far-cell-undeclared.xlsx": hostile.xlsx_far_cell(declare=False),
        "incoming/shared-string.xlsx": hostile.xlsx_huge_shared_string(),
        "incoming/many-cells.xlsx": hostile.xlsx_many_rows(3_000),
        "incoming/many-cells-undeclared.xlsx": hostile.xlsx_many_rows(3_000, declare=False),
        "incoming/one-line.csv.gz": hostile.one_long_line_gz(),
        "incoming/bomb.csv.gz": hostile.gzip_bomb(),
        "incoming/bomb.zip": hostile.zip_bomb(),
        "incoming/liar.zip": hostile.zip_bomb(honest=False),
        "incoming/mixed.csv": hostile.mixed_encodings(),
    }
    assert len(corpus["incoming/far-cell.xlsx"]) < 4_000
    assert len(corpus["incoming/bomb.csv.gz"]) < 20 * MIB
    for key, body in corpus.items():
        put_and_announce(world, key, body)
    put_and_announce(world, "incoming/good.csv", to_csv([sale(f"G{i}") for i in range(3)]))

    scratch = tmp_path / "scratch"
    peak = _run_loader(world, scratch, LOADER_MAX_UNPACKED_BYTES=str(256 * MIB),
                       LOADER_MAX_SHEET_CELLS="50000")

    got = _files(world)
    expected = {
        "incoming/far-cell.xlsx": "declares (A1:XFD1048576) 17,179,869,184 cells, over the "
                                  "limit of 50,000 (LOADER_MAX_SHEET_CELLS)",
        "incoming/far-cell-undeclared.xlsx": "LOADER_MAX_READER_MEMORY_BYTES",
        "incoming/shared-string.xlsx": "(LOADER_MAX_FIELD_BYTES)",
        "incoming/many-cells.xlsx": "declares (A1:X3001) 72,024 cells, over the limit of "
                                    "50,000 (LOADER_MAX_SHEET_CELLS)",
        "incoming/many-cells-undeclared.xlsx": "holds 72,024 cells, over the limit of 50,000 "
                                               "(LOADER_MAX_SHEET_CELLS)",
        "incoming/one-line.csv.gz": "line 2 is longer than the limit of 1,048,576 bytes "
                                    "(LOADER_MAX_RECORD_BYTES)",
        "incoming/bomb.csv.gz": "over the limit of 268,435,456 (LOADER_MAX_UNPACKED_BYTES)",
        "incoming/bomb.zip": "declares 4,294,967,295 bytes, over the limit of 268,435,456 "
                             "(LOADER_MAX_UNPACKED_BYTES)",
        "incoming/liar.zip": "corrupt zip",
        "incoming/mixed.csv": "mixed encodings: line 2 is UTF-8 but line 3 does not decode",
    }
    for key, reason in expected.items():
        status, got_reason, _ = got[key]
        assert status == "rejected" and reason in (got_reason or ""), (key, got_reason)
    assert got["incoming/good.csv"] == ("loaded", None, 3)
    assert peak <= 384 * MIB, f"peak RSS {peak / MIB:.0f} MiB"
    assert list(scratch.iterdir()) == []  # the process removed its own scratch directory


def test_file_that_keeps_killing_the_loader_goes_to_the_dlq(world, tmp_path):
    """The file here is big enough to be killed mid-load; a process killed with SIGKILL is
    what an abort or the OOM killer looks like from the outside. Each start joins a group of
    its own (reading from the first offset, which was never committed), so it need not wait
    for the broker to notice that the killed member is gone."""
    rows = [sale(f"K{i}") for i in range(400_000)]
    etag = put(world, "incoming/killer.csv", to_csv(rows))
    from tests.integration.loader_support import announce

    announce(world, "incoming/killer.csv", etag, 0, partition=0)

    def attempts() -> int:
        got = query(world, "select coalesce(max(attempts), 0) from raw.load_attempts")
        return int(got[0][0])

    env = {**world.env, "LOADER_SCRATCH_DIR": str(tmp_path / "scratch"),
           "LOADER_MAX_CRASHES": "2"}
    for n in (1, 2):
        proc = subprocess.Popen(loader_cmd(world, "--no-dbt", "--group", f"kill-{n}"), env=env,
                                stderr=subprocess.DEVNULL)
        wait_for(lambda n=n: attempts() == n, timeout=90)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    put_and_announce(world, "incoming/after.csv", to_csv([sale("A1")]), partition=0)
    _run_loader(world, tmp_path / "scratch", "--group", "kill-3", LOADER_MAX_CRASHES="2")

    dlq = consume_all(world, world.dlq_topic)
    assert len(dlq) == 1, (_files(world), query(world, "select * from raw.load_attempts"))
    headers = dict(dlq[0].headers())
    assert headers["error"] == b"stopped the loader 2 times"
    assert json.loads(dlq[0].value())["Records"][0]["s3"]["object"]["key"] == "incoming/killer.csv"
    got = _files(world)
    assert "incoming/killer.csv" not in got
    assert got["incoming/after.csv"] == ("loaded", None, 1)
    assert attempts() == 0


def test_loader_sweeps_scratch_left_by_a_killed_process(world, tmp_path):
    scratch = tmp_path / "scratch"
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = scratch / str(dead.pid)
    left.mkdir(parents=True)
    (left / "unpacked.csv").write_bytes(b"x" * MIB)
    keep = scratch / "not-a-loader"
    keep.mkdir()
    put_and_announce(world, "incoming/one.csv", to_csv([sale("S1")]))
    _run_loader(world, scratch)
    assert not left.exists()
    assert keep.exists()  # only loader directories (named by a pid) are swept
    assert _files(world)["incoming/one.csv"] == ("loaded", None, 1)


def test_duplicate_sale_ids_across_chunks_are_quarantined_by_postgres(world, tmp_path):
    rows = [sale(f"D{i}") for i in range(25_000)]
    rows.append(sale("D7", price="3.50"))          # row 25,001: a later chunk
    rows.append(sale("D24999", qty=0))               # invalid anyway: keeps its own reason only
    rows.append(sale("D24999"))                      # row 25,003
    put_and_announce(world, "incoming/dups.csv", to_csv(rows))
    _run_loader(world, tmp_path / "scratch")
    assert _files(world)["incoming/dups.csv"] == ("loaded", None, 25_000)
    got = query(world, "select row_number, reasons, raw_values->>'unit_price', "
                       "raw_values->>'sale_id' from raw.sales_rejected order by row_number")
    assert got == [
        (25_001, ["sale_id: duplicate in file (first at row 8)"], "3.50", "D7"),
        (25_002, ["quantity_sold: not a whole number >= 1"], "100.00", "D24999"),
        (25_003, ["sale_id: duplicate in file (first at row 25000)"], "100.00", "D24999"),
    ]
    assert query(world, "select count(*), count(distinct sale_id) from raw.sales") == [(25_000, 25_000)]


def test_invisible_ids_and_endless_decimals_are_rejected_rows(world, tmp_path):
    rows = [sale("Z1"), sale("\u200b"), sale("Z3", price="1." + "5" * 20_000),
            sale("Z4", product_name="Ma\u00e7\u00e3\u200b")]
    put_and_announce(world, "incoming/invisible.csv", to_csv(rows))
    _run_loader(world, tmp_path / "scratch")
    assert _files(world)["incoming/invisible.csv"] == ("loaded", None, 2)
    got = dict(query(world, "select row_number, reasons from raw.sales_rejected"))
    assert got[2] == ["sale_id: empty"]
    assert any(r.startswith("unit_price: more than") and r.endswith("decimal places")
               for r in got[3])
    names = query(world, "select product_name from raw.sales where sale_id = 'Z4'")
    assert names == [("Ma\u00e7\u00e3\u200b",)]


def test_sigterm_while_unpacking_leaves_no_scratch(world, tmp_path):
    scratch = tmp_path / "scratch"
    put_and_announce(world, "incoming/slow-bomb.csv.gz", hostile.gzip_bomb(3 << 30))
    proc = subprocess.Popen(loader_cmd(world, "--no-dbt"),
                            env={**world.env, "LOADER_SCRATCH_DIR": str(scratch)},
                            stderr=subprocess.DEVNULL)

    def unpacking() -> bool:
        return any(f.stat().st_size > 64 * MIB for f in scratch.rglob("*.csv") if f.is_file())

    wait_for(unpacking, timeout=90)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert time.monotonic() - started < 30
    assert list(scratch.iterdir()) == []
