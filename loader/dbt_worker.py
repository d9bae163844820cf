"""`python -m loader.dbt_worker`: run dbt commands in one warm process, one request at a time.

Why: importing dbt costs ~1.5 s of every `dbt build` the loader starts, a third of a
small build and so of the pipeline's freshness. This process imports dbt once and runs
each request with `dbtRunner`, strictly one after another (dbt's global state rules out
concurrent invocations in one process). The loader recycles it after a fixed number of
builds and after any crash, so state leaking between invocations cannot pile up.

Protocol: a JSON line `{"args": [...], "env": {...}}` on stdin (`env`: variables set for that
request only, such as the build window); on the stdout the process started with,
`{"accepted": true}` at once, then `{"success": bool, "fatal": bool, "output": str}`.
dbt's own console output (fd 1 and 2 while a request runs) is captured into `output`.
EOF on stdin ends the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import tempfile
from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _invoke(runner_cls: Any, args: list[str]) -> tuple[bool, bool, str]:
    with tempfile.TemporaryFile() as captured:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(captured.fileno(), 1)
        os.dup2(captured.fileno(), 2)
        error: BaseException | None = None
        try:
            result = runner_cls().invoke(args)
            success, error = bool(result.success), result.exception
        except BaseException as exc:  # noqa: BLE001 - reported to the loader, never raised
            success, error = False, exc
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        captured.seek(0)
        output = captured.read().decode("utf-8", "replace")
    if error is not None:
        output += f"\nERROR dbt raised {type(error).__name__}: {error}"
    return success, error is not None, output


def _die_with_parent(parent: int) -> None:
    """If the loader is killed outright, stop too (SIGTERM), even mid-build: an orphan would
    keep the build lock and make the restarted loader's builds wait. dbt's open transaction
    rolls back, no file is marked built, and the next build catches up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the loader died before prctl took effect
        os._exit(1)


def main() -> None:
    _die_with_parent(int(os.environ.get("SALESPIPE_DBT_WORKER_PARENT", os.getppid())))
    # Ctrl-C reaches the whole process group; the loader owns shutdown and ends this process
    # by closing its stdin once the current build is over.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    from dbt.cli.main import dbtRunner

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        replies.write(json.dumps({"accepted": True}) + "\n")
        extra = request.get("env") or {}
        saved = {name: os.environ.get(name) for name in extra}
        os.environ.update(extra)
        try:
            success, fatal, output = _invoke(dbtRunner, request["args"])
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        replies.write(json.dumps({"success": success, "fatal": fatal, "output": output}) + "\n")


if __name__ == "__main__":
    main()
