"""`salespipe docs`: generate the dbt docs site and serve it (lineage ends at the dashboard)."""

from __future__ import annotations

import signal
import subprocess
import time

import psycopg

from loader.dbt import dbt_command, dbt_env
from salespipe import db
from salespipe.errors import redact
from salespipe.logs import get_logger
from salespipe.settings import Settings, project_root

log = get_logger("salespipe.docs")

WAIT_POLL_SECONDS = 3.0

# `marts.dbt_runs` gets its row only after every mart and its tests succeeded.
_BUILT = "select to_regclass('marts.dbt_runs') is not null"
_HAS_RUN = "select exists (select 1 from marts.dbt_runs)"


def marts_built(settings: Settings) -> bool:
    """True once a dbt build has completed in this database."""
    with db.connect(settings, autocommit=True, application_name="salespipe-docs") as conn:
        row = conn.execute(_BUILT).fetchone()
        if not row or not row[0]:
            return False
        row = conn.execute(_HAS_RUN).fetchone()
        return bool(row and row[0])


def wait_for_marts(settings: Settings, *, poll_seconds: float = WAIT_POLL_SECONDS) -> None:
    """Block until the first build finished: the docs catalog lists only the relations that
    exist when it is generated, so generating earlier would describe no mart at all. An
    unreachable server (still starting, in compose) is waited for too; each change of
    reason is logged once."""
    reason = ""
    while True:
        try:
            if marts_built(settings):
                break
            now = "no_completed_dbt_build_yet"
            detail = ""
        except psycopg.OperationalError as exc:
            now = "postgres_unreachable"
            detail = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                            settings)
        if now != reason:
            log.info("docs_waiting", reason=now, detail=detail)
            reason = now
        time.sleep(poll_seconds)
    if reason:
        log.info("docs_marts_ready")


def serve_docs(settings: Settings, *, port: int, host: str = "127.0.0.1",
               wait: bool = False) -> int:
    # dbt acts as the transform role anyway; the docs need no other login.
    settings = settings.for_component("transform")
    if wait:
        wait_for_marts(settings)
    env = dbt_env(settings)
    subprocess.run(dbt_command(settings, "docs", "generate"), env=env, check=True,  # noqa: S603
                   cwd=project_root())
    print(f"dbt docs: http://localhost:{port}  (Ctrl-C stops)", flush=True)
    server = subprocess.Popen(  # noqa: S603
        dbt_command(settings, "docs", "serve", "--port", str(port), "--host", host,
                    "--no-browser"),
        env=env, cwd=project_root(),
    )
    # SIGTERM (docker stop, a supervisor) must not leave the server behind as an orphan.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(30)
        return 0
