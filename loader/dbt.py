"""Run `dbt build` after a batch, out of the loader's process.

dbt keeps global state per process (flags, adapters, the parsed project), so the loader
never invokes it in its own process: builds run either in a fresh `dbt` subprocess or, in a
long-running loader, in a warm worker process (`DbtWorker`, see loader/dbt_worker.py) that
saves dbt's start-up on every batch. Builds of the shared schemas are serialized outside
dbt: each runs while its process holds the build lock (loader/build_lock.py), so a build
waits for the one running instead of colliding with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loader.build_window import run_prod_build
from salespipe.components import component_environ
from salespipe.logs import get_logger
from salespipe.settings import Settings, project_root, state_dir

log = get_logger("loader.dbt")

DBT_TIMEOUT_S = 1800


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    seconds: float
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {"success": self.success, "seconds": round(self.seconds, 2), "summary": self.summary}


def dbt_env(settings: Settings) -> dict[str, str]:
    """dbt's environment: the transform login and the dbt paths, none of the loader's other
    credentials (its own login, S3 keys, SASL, the alert webhook)."""
    return {**component_environ(settings, "transform"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def dbt_command(settings: Settings, *args: str) -> list[str]:
    root = project_root()
    project = Path(settings.DBT_PROJECT_DIR) if settings.DBT_PROJECT_DIR else root / "dbt_sales"
    dbt = Path(sys.executable).parent / "dbt"
    # The loader and the docs site work on the shared schemas (profiles.yml's `prod`); the
    # profile's default target is an analyst's own `dev` schemas.
    return [str(dbt), *args, "--project-dir", str(project), "--profiles-dir", str(root),
            "--target", "prod"]


def _summary(output: str) -> str:
    """The lines an operator needs: failures and the final tally (never the whole log)."""
    keep = [ln.strip() for ln in output.splitlines()
            if any(w in ln for w in ("ERROR", "FAIL", "Done. PASS", "Completed with", "Runtime Error"))]
    return " | ".join(keep[-6:])[:2000]


def build_command(settings: Settings) -> list[str]:
    target = state_dir() / "dbt-target"
    # Unit tests check the models' logic, not the data: they run in CI and in analysts'
    # builds, and skipping them here takes ~1.5 s (a quarter) off every batch's freshness.
    return dbt_command(settings, "--no-use-colors", "build", "--exclude", "test_type:unit",
                       "--target-path", str(target), "--log-path", str(state_dir() / "dbt-logs"))


class DbtWorker:
    """A `python -m loader.dbt_worker` child that runs the loader's builds with dbt imported
    once. Started on first use; replaced after `max_builds` builds, after a build that
    raised inside dbt, after a timeout (killed) and when it died, so each of those costs
    one cold start and nothing else. EOF on its stdin (also when the loader dies) ends it."""

    def __init__(self, settings: Settings, *, max_builds: int = 100) -> None:
        self.settings = settings
        self.max_builds = max_builds
        self.builds = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()

    def invoke(self, args: list[str], timeout: float,
               env: dict[str, str] | None = None) -> tuple[bool, str]:
        """Run one dbt command in the worker, with `env` added to its environment for that
        command only. A worker that dies before it accepts the
        request (it died while idle, e.g. killed by the OOM killer) is replaced and the
        request sent once more, which is safe because builds are idempotent; one that dies
        after accepting it is reported as a failed build."""
        deadline = time.monotonic() + timeout
        for attempt in (1, 2):
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            assert self.proc is not None and self.proc.stdin is not None
            try:
                self.proc.stdin.write((json.dumps({"args": args, "env": env or {}}) + "\n").encode())
                self.proc.stdin.flush()
                accepted = self._read_line(deadline)
            except BrokenPipeError:
                accepted = b""
            if accepted == b"" and attempt == 1:
                log.warning("dbt_worker_lost", code=self._reap(),
                            action="replace_and_retry")
                continue
            line = self._read_line(deadline) if accepted else accepted
            break
        if line is None:
            self.close(kill=True)
            return False, f"ERROR dbt build timed out after {timeout:.0f}s"
        if not line:
            return False, f"ERROR dbt worker exited with code {self._reap()} during the build"
        reply = json.loads(line)
        self.builds += 1
        if reply["fatal"] or self.builds >= self.max_builds:
            self.close()
        return bool(reply["success"]), str(reply["output"])

    def _start(self) -> None:
        self.builds = 0
        self._buffer = bytearray()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "loader.dbt_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, cwd=project_root(),
            env={**dbt_env(self.settings), "SALESPIPE_DBT_WORKER_PARENT": str(os.getpid())},
        )

    def _reap(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        code = proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        return code

    def _read_line(self, deadline: float) -> bytes | None:
        """The worker's next line; b"" when it died, None when `deadline` passed."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b""
                self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line + b"\n"

    def close(self, *, kill: bool = False) -> None:
        proc = self.proc
        if proc is None:
            return
        if kill:
            proc.kill()
        elif proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # EOF: the worker exits after its current request
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        self._reap()


def run_build(settings: Settings, worker: DbtWorker | None = None) -> DbtOutcome:
    """`dbt build` in `worker` if given, else in a fresh subprocess, holding the build lock;
    failures are reported, never raised (a lost database connection too)."""
    started = time.perf_counter()

    def waiting(holder: str) -> None:
        log.info("dbt_build_waiting", holder=holder)

    def invoke(cmd: list[str], env: dict[str, str]) -> tuple[bool, str]:
        if worker is not None:
            return worker.invoke(cmd[1:], DBT_TIMEOUT_S, env)
        return _run_subprocess(settings, cmd, env)

    success, output = run_prod_build(settings, build_command(settings), invoke, on_wait=waiting)
    outcome = DbtOutcome(success, time.perf_counter() - started, _summary(output))
    level = logging.INFO if success else logging.ERROR
    log.log(level, "dbt_build", success=outcome.success, seconds=round(outcome.seconds, 1),
            summary=outcome.summary)
    return outcome


def _run_subprocess(settings: Settings, cmd: list[str], env: dict[str, str]) -> tuple[bool, str]:
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv
            cmd, env={**dbt_env(settings), **env}, capture_output=True, text=True,
            timeout=DBT_TIMEOUT_S, cwd=project_root(),
        )
    except subprocess.TimeoutExpired as exc:
        return False, f"ERROR dbt build timed out after {exc.timeout}s"
    return proc.returncode == 0, proc.stdout + proc.stderr
