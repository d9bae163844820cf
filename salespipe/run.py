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


def _salespipe(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "salespipe"), *args]


def _generate(day: dt.date, rows: int) -> None:
    subprocess.run(_salespipe("generate", "--upload", "--date", day.isoformat(),  # noqa: S603
                              "--rows", str(rows)), check=True)


def run_all(settings: Settings, *, every: float, rows: int, port: int) -> int:
    manager.up(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    children: list[subprocess.Popen[bytes]] = []
    try:
        for args in (("watch",), ("load",), ("dashboard", "--port", str(port))):
            children.append(subprocess.Popen(  # noqa: S603
                _salespipe("--log-format", settings.LOG_FORMAT, *args)))
        print(f"\n  dashboard: http://localhost:{port}\n  Ctrl-C stops everything\n", flush=True)
        today = dt.date.today()
        _generate(today - dt.timedelta(days=HISTORY_DAYS - 1), rows)
        for back in range(HISTORY_DAYS - 2, -1, -1):
            _generate(today - dt.timedelta(days=back), rows)
        while not stop.wait(every):
            if any(c.poll() is not None for c in children):
                log.error("event=component_exited action=stopping")
                return 1
            _generate(dt.date.today(), rows)
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
