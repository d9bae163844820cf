"""What a prod build must recompute, and the ledger of what the marts include.

The loader (and `salespipe build`) is the one writer of the shared schemas, so it is the one
that knows what changed: raw.files rows with no `built_at` are not in the marts yet. Before a
build it reads them and the days their sales touch, passes both to dbt as `--vars`
(`new_files`, `changed_days`; see dbt_sales/macros/build_window.sql), and stamps the files
built once dbt succeeded. dbt keeps no state of its own, and a build given no window (an
analyst's plain `dbt build`) recomputes the marts whole.

Everything here runs on the build lock's own connection, so the window is read and the files
marked by the one process allowed to build.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from loader.build_lock import LOCK_VAR, prod_build_lock
from salespipe.settings import Settings

# A window is worth it while it is small: each changed sale costs index probes, and ten
# million random probes took 9 minutes where one scan of raw.sales takes seconds. Past these
# limits the build gets no window and recomputes whole (one scan).
WINDOW_MIN_ROWS = 50_000
WINDOW_MAX_SHARE = 0.05
WINDOW_MAX_FILES = 1_000


@dataclass(frozen=True)
class BuildWindow:
    """The files no completed prod build includes, and the days whose marts they change.
    `changed_days` is None when the window is too large to be worth passing."""

    new_files: tuple[int, ...]
    changed_days: tuple[date, ...] | None

    def dbt_vars(self) -> dict[str, Any]:
        if self.changed_days is None:
            return {}
        return {"new_files": list(self.new_files),
                "changed_days": [d.isoformat() for d in self.changed_days]}


_PENDING = """
    with pending as (
        select file_id, key from raw.files where built_at is null
    )
    select
        coalesce((select array_agg(file_id order by file_id) from pending), '{}'),
        (select coalesce(sum(f.rows_valid), 0) from raw.files as f
          where f.status = 'loaded' and f.key in (select key from pending)),
        (select greatest(reltuples, 0)::bigint from pg_class where oid = 'raw.sales'::regclass)
"""

# Every day any raw row of any sale in the pending files, or in another loaded version of the
# same keys, is on: the day a sale left and the day it moved to. One index probe per file and
# per sale (`offset 0` keeps PostgreSQL from turning them into a scan of all of raw.sales).
_CHANGED_DAYS = """
    with touched_files as (
        select f.file_id from raw.files as f
         where f.status = 'loaded'
           and f.key in (select key from raw.files where file_id = any(%(files)s))
    ),
    touched_sales as (
        select distinct s.sale_id from touched_files as t
        cross join lateral (
            select sale_id from raw.sales where file_id = t.file_id offset 0) as s
    )
    select distinct d.sale_date from touched_sales as t
    cross join lateral (
        select sale_date from raw.sales where sale_id = t.sale_id offset 0) as d
    order by 1
"""


def pending_window(conn: Any) -> BuildWindow:
    files, rows, history = conn.execute(_PENDING).fetchone()
    new_files = tuple(int(f) for f in files)
    if len(new_files) > WINDOW_MAX_FILES or rows > max(WINDOW_MIN_ROWS, WINDOW_MAX_SHARE * history):
        return BuildWindow(new_files, None)
    days = conn.execute(_CHANGED_DAYS, {"files": list(new_files)}).fetchall()
    return BuildWindow(new_files, tuple(d for (d,) in days))


def mark_built(conn: Any, file_ids: Sequence[int]) -> None:
    if file_ids:
        conn.execute("update raw.files set built_at = clock_timestamp()"
                     " where file_id = any(%s) and built_at is null", (list(file_ids),))


def builds_everything(dbt_args: Sequence[str]) -> bool:
    """False for a partial build (`--select`, `--exclude` of models, `--empty`): it may skip
    marts, so its files must stay in the next window. Excluding only tests
    (`--exclude test_type:unit`, as the loader does) still builds every mart."""
    args = list(dbt_args)
    for i, arg in enumerate(args):
        name, _, inline = arg.partition("=")
        if name in ("-s", "--select", "-m", "--models", "--model", "--selector", "--empty",
                    "--inline"):
            return False
        if name == "--exclude":
            values = [inline] if inline else []
            for value in args[i + 1:]:
                if value.startswith("-"):
                    break
                values.append(value)
            if not all(v.startswith("test_type:") for v in " ".join(values).split()):
                return False
    return True


def _split_vars(args: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """`args` without dbt's `--vars`, and those vars (YAML, as dbt reads them)."""
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--vars" and i + 1 < len(out):
            return out[:i] + out[i + 2:], yaml.safe_load(out[i + 1]) or {}
        if arg.startswith("--vars="):
            return out[:i] + out[i + 1:], yaml.safe_load(arg.split("=", 1)[1]) or {}
    return out, {}


def with_vars(args: Sequence[str], extra: dict[str, Any]) -> list[str]:
    """`args` with `extra` merged into dbt's `--vars` (a caller's own vars win)."""
    out, given = _split_vars(args)
    return [*out, "--vars", json.dumps({**extra, **given})]


def run_prod_build(settings: Settings, cmd: Sequence[str],
                   invoke: Callable[[list[str]], tuple[bool, str]],
                   on_wait: Callable[[str], None] | None = None) -> tuple[bool, str]:
    """Run the dbt command `cmd` (a prod build) through `invoke`, under the build lock, with
    the pending window in its vars; mark the window's files built when it succeeded and built
    every mart. A window given by hand in `cmd` wins over the pending one (and then nothing is
    marked: the caller chose what to build)."""
    with prod_build_lock(settings, on_wait=on_wait) as lock:
        window = pending_window(lock.conn)
        by_hand = bool({"new_files", "changed_days"} & _split_vars(cmd)[1].keys())
        success, output = invoke(with_vars(cmd, {**window.dbt_vars(), LOCK_VAR: lock.pid}))
        if success and not by_hand and builds_everything(cmd):
            mark_built(lock.conn, window.new_files)
    return success, output
