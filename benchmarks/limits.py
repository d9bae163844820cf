"""The loader's peak memory on a huge file and on the hostile corpus, with default limits.

Each file is loaded by `benchmarks.load_once` in a fresh process, so the peak (VmHWM) is
the loader's own. The .xlsx reader runs in a child of that process with its address space
capped (LOADER_MAX_READER_MEMORY_BYTES); its memory is not in the loader's figure.

The smoke run (`--smoke`, in the test suite) shrinks the bombs and their limit together
(80 MiB against 64 MiB): the same rejection, without inflating 4 GiB, which was a third of
the smoke run's time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests import hostile_files as hostile


def bench_limits(b: Any, big_rows: int, bomb_bytes: int = 5 << 30,
                 unpack_limit: int | None = None) -> dict[str, Any]:
    files: list[dict[str, Any]] = []
    bomb = f"{bomb_bytes >> 30}GiB" if bomb_bytes >= 1 << 30 else f"{bomb_bytes >> 20}MiB"
    limit = {} if unpack_limit is None else {"LOADER_MAX_UNPACKED_BYTES": str(unpack_limit)}

    def one(name: str, path: Path) -> None:
        key = f"incoming/limits/{name}"
        b.upload(key, path)
        size = path.stat().st_size
        path.unlink()
        run = b.load_once(key, settings=limit)
        files.append({"file": name, "bytes": size, "status": run["status"],
                      "reason": run.get("reason"), "rows_valid": run["rows_valid"],
                      "seconds": run["seconds"], "peak_rss_mb": run["peak_rss_mb"]})
        print(f"  {name}: {run['status']} {run['peak_rss_mb']:.0f} MB {run['seconds']:.1f} s",
              flush=True)

    one(f"big_{big_rows}.csv", b.make_file(dt.date(2026, 4, 1), big_rows, 7))
    corpus = {
        "far_cell.xlsx": hostile.xlsx_far_cell(),
        "far_cell_undeclared.xlsx": hostile.xlsx_far_cell(declare=False),
        "shared_string.xlsx": hostile.xlsx_huge_shared_string(),
        "one_line_200M_commas.csv.gz": hostile.one_long_line_gz(),
        f"bomb_{bomb}.csv.gz": hostile.gzip_bomb(bomb_bytes),
        f"bomb_{bomb}.zip": hostile.zip_bomb(bomb_bytes),
        "mixed_encodings.csv": hostile.mixed_encodings(),
    }
    for name, body in corpus.items():
        one(name, hostile.write(b.tmp / name, body))
    return {"big_rows": big_rows, "files": files,
            "peak_rss_mb": max(f["peak_rss_mb"] for f in files)}
