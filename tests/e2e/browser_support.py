"""A served `salespipe dashboard` for the browser tests: free port, health wait, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STARTUP_TIMEOUT_SECONDS = 60
UI_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`salespipe dashboard` exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"dashboard did not answer on {url} within {STARTUP_TIMEOUT_SECONDS} s")


@contextmanager
def served_dashboard(env: Mapping[str, str], *flags: str, **streams: Any) -> Iterator[str]:
    """`salespipe [flags] dashboard` on a free port, yielding its URL once healthy; stopped
    with SIGTERM at the end (its whole session killed if it does not stop). `streams` are
    Popen's stdout/stderr."""
    port = free_port()
    salespipe = str(Path(sys.executable).parent / "salespipe")
    process = subprocess.Popen(  # noqa: S603
        [salespipe, *flags, "dashboard", "--port", str(port)], env=dict(env), cwd=ROOT,
        start_new_session=True, **streams,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
