"""What a prod build must recompute, and the ledger of what the marts include.

The loader (and `salespipe build`) is the one writer of the shared schemas, so it is the one
that knows what changed: raw.files rows with no `built_at` are not in the marts yet. Before a
build it reads them and the days their sales touch, hands both to dbt (`new_files`,
`changed_days`; see dbt_sales/macros/build_window.sql), and stamps the files built once dbt
succeeded. dbt keeps no state of its own, and a build given no window (an analyst's plain
`dbt build`) recomputes the marts whole.

The window and the lock holder's pid travel in the environment (SALESPIPE_BUILD_WINDOW,
SALESPIPE_BUILD_LOCK_PID), not in `--vars`: dbt re-parses the whole project whenever its
vars change, which cost 4.5 s of every build here (`dbt parse`: 7.7 s with changed vars,
3.2 s without); dbt_sales reads them only while executing, so they cost no re-parse.

Everything here runs on the build lock's own connection, so the window is read and the files
marked by the one process allowed to build.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from loader.build_lock import LOCK_ENV, prod_build_lock
from salespipe.logs import get_logger
from salespipe.settings import Settings

log = get_logger("loader.build_window")

# A window is worth it while it is small: each changed sale costs index probes, and ten
# million random probes took 9 minutes where one scan of raw.sales takes seconds. Past these
# limits the build gets no window and recomputes whole (one scan).
WINDOW_MIN_ROWS = 50_000
WINDOW_MAX_SHARE = 0.05
WINDOW_MAX_FILES = 1_000

WINDOW_ENV = "SALESPIPE_BUILD_WINDOW"


@dataclass(frozen=True)
class BuildWindow:
    """The files no completed prod build includes, and the days whose marts they change.
    `changed_days` is None when the window is too large to be worth passing."""

    new_files: tuple[int, ...]
    changed_days: tuple[date, ...] | None

    def dbt_env(self) -> dict[str, str]:
        """SALESPIPE_BUILD_WINDOW for dbt, or nothing when the build recomputes whole."""
        if self.changed_days is None:
            return {}
        return {WINDOW_ENV: json.dumps({"new_files": list(self.new_files),
                                        "changed_days": [d.isoformat() for d in self.changed_days]})}


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


def _given_vars(args: Sequence[str]) -> dict[str, Any]:
    """dbt's `--vars` in `args` (YAML, as dbt reads them), or {}."""
    for i, arg in enumerate(args):
        if arg == "--vars" and i + 1 < len(args):
            return yaml.safe_load(args[i + 1]) or {}
        if arg.startswith("--vars="):
            return yaml.safe_load(arg.split("=", 1)[1]) or {}
    return {}


def build_env(window: BuildWindow, pid: int) -> dict[str, str]:
    """What dbt's environment gains for a prod build: the lock holder's pid, and the window.
    A caller's own environment must not leak a stale window into a whole build."""
    return {LOCK_ENV: str(pid), WINDOW_ENV: "", **window.dbt_env()}


def run_prod_build(settings: Settings, cmd: Sequence[str],
                   invoke: Callable[[list[str], dict[str, str]], tuple[bool, str]],
                   on_wait: Callable[[str], None] | None = None) -> tuple[bool, str]:
    """Run the dbt command `cmd` (a prod build) through `invoke(cmd, extra_env)`, under the
    build lock, with the pending window; mark the window's files built when it succeeded and
    built every mart. A window given by hand (`--vars` with new_files or changed_days) wins
    over the pending one, and then nothing is marked: the caller chose what to build."""
    with prod_build_lock(settings, on_wait=on_wait) as lock:
        started = time.perf_counter()
        window = pending_window(lock.conn)
        log.info("build_window", files=len(window.new_files),
                 days="all" if window.changed_days is None else len(window.changed_days),
                 seconds=round(time.perf_counter() - started, 3))
        by_hand = bool({"new_files", "changed_days"} & _given_vars(cmd).keys())
        success, output = invoke(list(cmd), build_env(window, lock.pid))
        if success and not by_hand and builds_everything(cmd):
            mark_built(lock.conn, window.new_files)
    return success, output
