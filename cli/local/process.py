"""Small process and port helpers shared by the local services."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salespipe.errors import UserError
from salespipe.settings import SERVICES_FILE, read_services_state, state_dir


class ServiceError(UserError):
    """A local service could not be started; the message is one line for the user."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise ServiceError(f"{what} did not become ready within {timeout:.0f}s")


def spawn(cmd: list[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> int:
    """Start a detached process (own session, so Ctrl-C on the CLI does not reach it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv built by this package
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )
    return proc.pid


def stop_pid(pid: int, timeout: float = 15.0) -> None:
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        _reap(pid)
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class StateFile:
    """`.salespipe/services.json`: per-service pid, port and data paths."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.dir = state_dir(root)
        self.path = self.dir / SERVICES_FILE

    def read(self) -> dict[str, Any]:
        return read_services_state(self.root)

    def update(self, service: str, info: dict[str, Any] | None) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = self.read()
        if info is None:
            data.pop(service, None)
        else:
            data[service] = info
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(self.path)


@dataclass
class ScratchServer:
    """A server a test or benchmark started in the foreground over a throw-away directory
    `base` (its log is `base/<log_name>`); stopping it removes the directory."""

    proc: subprocess.Popen
    base: Path
    log_name: str

    @property
    def log(self) -> str:
        return (self.base / self.log_name).read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)
