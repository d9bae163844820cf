"""Run `dbt build` after a batch: in a subprocess, one at a time across all loaders.

dbt keeps global state per process (FIELD_NOTES), so a long-running loader never invokes it
in-process; a PostgreSQL advisory lock serializes builds across loader replicas.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from salespipe import db
from salespipe.settings import Settings, project_root, state_dir

log = logging.getLogger("loader.dbt")

DBT_LOCK_ID = 0x5A1E5_0002
DBT_TIMEOUT_S = 1800


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    seconds: float
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {"success": self.success, "seconds": round(self.seconds, 2), "summary": self.summary}


def dbt_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.as_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def dbt_command(settings: Settings, *args: str) -> list[str]:
    root = project_root()
    project = Path(settings.DBT_PROJECT_DIR) if settings.DBT_PROJECT_DIR else root / "dbt_sales"
    dbt = Path(sys.executable).parent / "dbt"
    return [str(dbt), *args, "--project-dir", str(project), "--profiles-dir", str(root)]


def _summary(output: str) -> str:
    """The lines an operator needs: failures and the final tally (never the whole log)."""
    keep = [ln.strip() for ln in output.splitlines()
            if any(w in ln for w in ("ERROR", "FAIL", "Done. PASS", "Completed with", "Runtime Error"))]
    return " | ".join(keep[-6:])[:2000]


def run_build(settings: Settings) -> DbtOutcome:
    """`dbt build` under the cluster-wide lock; failures are reported, never raised."""
    started = time.perf_counter()
    target = state_dir() / "dbt-target"
    # Unit tests check the models' logic, not the data: they run in CI and in analysts'
    # builds, and skipping them here takes ~1.5 s (a quarter) off every batch's freshness.
    cmd = dbt_command(settings, "--no-use-colors", "build", "--exclude", "test_type:unit",
                      "--target-path", str(target), "--log-path", str(state_dir() / "dbt-logs"))
    with db.connect(settings, autocommit=True, application_name="salespipe-dbt-lock") as conn:
        conn.execute("select pg_advisory_lock(%s)", (DBT_LOCK_ID,))
        try:
            proc = subprocess.run(  # noqa: S603 - fixed argv
                cmd, env=dbt_env(settings), capture_output=True, text=True,
                timeout=DBT_TIMEOUT_S, cwd=project_root(),
            )
            success, output = proc.returncode == 0, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            success, output = False, f"ERROR dbt build timed out after {exc.timeout}s"
        finally:
            with contextlib.suppress(psycopg.Error):  # a dropped session releases it anyway
                conn.execute("select pg_advisory_unlock(%s)", (DBT_LOCK_ID,))
    outcome = DbtOutcome(success, time.perf_counter() - started, _summary(output))
    level = logging.INFO if success else logging.ERROR
    log.log(level, "event=dbt_build success=%s seconds=%.1f summary=%r", outcome.success,
            outcome.seconds, outcome.summary)
    return outcome
