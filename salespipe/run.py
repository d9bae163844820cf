"""`salespipe run`: the whole pipeline in one foreground command, for watching it work.

Each component runs as its own `salespipe` subprocess, exactly as it would in production;
this process only seeds a week of history, uploads a new file every `--every` seconds and
stops everything on Ctrl-C.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from salespipe.services import manager
from salespipe.settings import Settings

log = logging.getLogger("salespipe.run")

HISTORY_DAYS = 7


def _salespipe(settings: Settings, *args: str) -> list[str]:
    # Every child logs in this command's format, whichever way it was chosen.
    return [str(Path(sys.executable).parent / "salespipe"), "--log-format", settings.LOG_FORMAT,
            *args]


def _generate(settings: Settings, day: dt.date, rows: int) -> None:
    subprocess.run(_salespipe(settings, "generate", "--upload", "--date",  # noqa: S603
                              day.isoformat(), "--rows", str(rows)), check=True)


def run_all(settings: Settings, *, every: float, rows: int, port: int) -> int:
    manager.up(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    children: list[subprocess.Popen[bytes]] = []
    try:
        for args in (("watch",), ("load",), ("dashboard", "--port", str(port))):
            children.append(subprocess.Popen(_salespipe(settings, *args)))  # noqa: S603
        print(f"\n  dashboard: http://localhost:{port}\n  Ctrl-C stops everything\n", flush=True)
        today = dt.date.today()
        _generate(settings, today - dt.timedelta(days=HISTORY_DAYS - 1), rows)
        for back in range(HISTORY_DAYS - 2, -1, -1):
            _generate(settings, today - dt.timedelta(days=back), rows)
        while not stop.wait(every):
            if any(c.poll() is not None for c in children):
                log.error("event=component_exited action=stopping")
                return 1
            _generate(settings, dt.date.today(), rows)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        print("stopped (services keep running: `salespipe services down` stops them)")
    return 0
