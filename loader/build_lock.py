"""One writer of the shared schemas at a time: a PostgreSQL session advisory lock held by the
process that runs `dbt build --target prod`, on a connection of its own, for the whole dbt
invocation.

The lock lives outside dbt, as an orchestrator's concurrency limit does: dbt releases its
connections between nodes, so a lock taken inside dbt would not last the run. A session lock
dies with its connection, so a killed build frees it at once (no lease, no heartbeat, no
takeover). The loader's builds and `salespipe build` take it; dbt's `on-run-start` hook
(`require_salespipe_build`) refuses a prod build whose environment does not name a backend
that holds it, so a plain `dbt build --target prod` stops at once. Dev targets need no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from salespipe import db
from salespipe.logs import get_logger
from salespipe.settings import Settings

log = get_logger("loader.build_lock")

# pg_advisory_lock(int, int): (project, purpose). dbt_sales's hook checks the same pair in
# pg_locks (classid, objid, objsubid = 2 for the two-key form).
LOCK_KEY = (7406, 1)
LOCK_ENV = "SALESPIPE_BUILD_LOCK_PID"


def _holder(conn: Any) -> str:
    row = conn.execute(
        """
        select a.pid, coalesce(nullif(a.application_name, ''), 'a client'),
               to_char(a.xact_start, 'HH24:MI:SS'), to_char(a.backend_start, 'HH24:MI:SS')
          from pg_locks l join pg_stat_activity a using (pid)
         where l.locktype = 'advisory' and l.granted and l.classid = %s and l.objid = %s
           and l.objsubid = 2 and l.database = (select oid from pg_database
                                                where datname = current_database())
        """, LOCK_KEY).fetchone()
    if row is None:
        return "another build"
    return f"{row[1]} (backend pid {row[0]}, connected since {row[3]})"


@dataclass(frozen=True)
class HeldLock:
    """The lock's connection (autocommit; the build window is read and marked on it) and the
    backend pid that holds the lock, which dbt's hook checks."""

    conn: Any
    pid: int


@contextmanager
def prod_build_lock(settings: Settings,
                    on_wait: Callable[[str], None] | None = None) -> Iterator[HeldLock]:
    """Hold the build lock. Waits while another build holds it, telling `on_wait` who does
    once."""
    conn = db.connect(settings, autocommit=True, application_name="salespipe-build-lock")
    try:
        got = conn.execute("select pg_try_advisory_lock(%s, %s)", LOCK_KEY).fetchone()
        if not (got and got[0]):
            if on_wait is not None:
                on_wait(_holder(conn))
            conn.execute("select pg_advisory_lock(%s, %s)", LOCK_KEY)
        # Asked of the server: through a pooler (PgBouncer) the pid the protocol reports is
        # the pooler's own, not the backend that holds the lock.
        row = conn.execute("select pg_backend_pid()").fetchone()
        yield HeldLock(conn, int(row[0]) if row else conn.info.backend_pid)
    finally:
        conn.close()  # the session ends, and the lock with it
