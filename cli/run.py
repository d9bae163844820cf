"""`salespipe run`: the whole pipeline in one foreground command, for watching it work.

Each component runs as its own `salespipe` subprocess, exactly as it would in production,
with only its own credentials in its environment (salespipe/components.py): on the local
PostgreSQL each logs in as its own role (cli/local/logins.py), so the dashboard never holds
the owner's password. This process only seeds a week of history, uploads a new file every
`--every` seconds and stops everything on Ctrl-C: the signal is passed on to every component
at once, and what is still running after `STOP_GRACE_S` is killed.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from cli.local import manager
from cli.local.logins import with_local_logins
from salespipe.components import component_environ
from salespipe.logs import get_logger
from salespipe.settings import COMPONENT_ROLES, Settings

log = get_logger("cli.run")

HISTORY_DAYS = 7
# Components stop within a second or two (the loader finishes or rolls back its file and
# abandons a running dbt build); this only bounds a component that hangs.
STOP_GRACE_S = 10.0


def _salespipe(settings: Settings, *args: str) -> list[str]:
    # Every child logs in this command's format, whichever way it was chosen.
    return [str(Path(sys.executable).parent / "salespipe"), "--log-format", settings.LOG_FORMAT,
            *args]


def _generate(settings: Settings, day: dt.date, rows: int, stop: threading.Event) -> None:
    """Upload one day's file; a stop request ends the generator instead of waiting for it."""
    proc = subprocess.Popen(_salespipe(settings, "generate", "--upload", "--date",  # noqa: S603
                                       day.isoformat(), "--rows", str(rows)),
                            env=component_environ(settings, "generator"))
    while proc.poll() is None:
        if stop.wait(0.1):
            proc.terminate()
            proc.wait()
            return
    # Ctrl-C in a terminal reaches the generator too: its exit code then means nothing.
    if proc.returncode != 0 and not stop.is_set():
        raise subprocess.CalledProcessError(proc.returncode, proc.args)


def _stop_children(children: list[subprocess.Popen[bytes]], signum: int) -> None:
    """Send `signum` to every component first, then wait for them together."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signum)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in children:
        try:
            child.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("component_killed", pid=child.pid, grace_s=round(STOP_GRACE_S))
            child.kill()
            child.wait()


def run_all(settings: Settings, *, every: float, rows: int, port: int) -> int:
    manager.up(settings)
    settings = with_local_logins(settings)
    shared = [c for c in COMPONENT_ROLES if settings.component_login(c) is None]
    if shared:
        # The documented fallback on a server with one login (README, Least privilege).
        log.info("shared_login", components=",".join(shared),
                 hint="set_POSTGRES_<COMPONENT>_PASSWORD")
    stop = threading.Event()
    received = [signal.SIGTERM]

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        received[0] = signal.Signals(signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    children: list[subprocess.Popen[bytes]] = []
    code = 0
    try:
        for component, args in (("watcher", ("watch",)), ("loader", ("load",)),
                                ("dashboard", ("dashboard", "--port", str(port)))):
            children.append(subprocess.Popen(  # noqa: S603
                _salespipe(settings, *args), env=component_environ(settings, component)))
        print(f"\n  dashboard: http://localhost:{port}\n  Ctrl-C stops everything\n", flush=True)
        today = dt.date.today()
        for back in range(HISTORY_DAYS - 1, -1, -1):
            if stop.is_set():
                break
            _generate(settings, today - dt.timedelta(days=back), rows, stop)
        while not stop.wait(every):
            if any(c.poll() is not None for c in children):
                log.error("component_exited", action="stopping")
                code = 1
                break
            _generate(settings, dt.date.today(), rows, stop)
    finally:
        # Ctrl-C in a terminal reaches the components too; a signal sent to this process
        # alone (kill, a supervisor) must still stop all of them, so pass it on.
        _stop_children(children, received[0])
        print("stopped (services keep running: `salespipe services down` stops them)")
    return code
