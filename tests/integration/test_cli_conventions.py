"""Command-line conventions, checked on the real `salespipe` executable."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cli.local.process import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SALESPIPE = str(Path(sys.executable).parent / "salespipe")
STARTUP_SECONDS = 90


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_version_prints_the_package_version():
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    proc = subprocess.run([SALESPIPE, "--version"], capture_output=True, text=True, timeout=60)

    assert proc.returncode == 0
    assert proc.stdout.strip() == f"salespipe {expected}"


@pytest.mark.parametrize("argv", [
    ["-v", "migrate"],
    ["migrate", "-v"],
    ["migrate", "--verbose"],
])
def test_verbose_is_accepted_before_and_after_the_subcommand(world, argv):
    # Verbose shows the full traceback where the default is one line.
    env = dict(world.env, POSTGRES_PORT=str(_closed_port()))

    proc = subprocess.run([SALESPIPE, *argv], env=env, capture_output=True, text=True,
                          timeout=60)

    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "OperationalError" in proc.stderr


def test_without_verbose_a_failure_is_one_line(world):
    env = dict(world.env, POSTGRES_PORT=str(_closed_port()))

    proc = subprocess.run([SALESPIPE, "migrate"], env=env, capture_output=True, text=True,
                          timeout=60)

    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("salespipe migrate: error: PostgreSQL unreachable")


def test_services_status_exits_zero_when_everything_is_up(base_settings):
    proc = subprocess.run([SALESPIPE, "services", "status"], capture_output=True, text=True,
                          timeout=60)

    assert proc.returncode == 0, proc.stdout


def test_services_status_exits_non_zero_when_a_service_is_down(base_settings):
    port = _closed_port()
    env = {**os.environ, **base_settings.as_env(), "POSTGRES_PORT": str(port)}

    proc = subprocess.run([SALESPIPE, "services", "status"], env=env, capture_output=True,
                          text=True, timeout=60)

    assert proc.returncode == 1
    postgres = proc.stdout.splitlines()[0].split()
    assert postgres == ["postgres", "unreachable", f"127.0.0.1:{port}"]


def _serves_health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",  # noqa: S310
                                    timeout=2) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _start_dashboard(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([SALESPIPE, "dashboard", *args], env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _wait_serving(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dashboard exited with {process.returncode}"
        if _serves_health(port):
            return
        time.sleep(0.5)
    pytest.fail(f"no dashboard on port {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_dashboard_listens_on_streamlit_server_port_without_port_option(world):
    port = free_port()
    process = _start_dashboard(dict(world.env, STREAMLIT_SERVER_PORT=str(port)))
    try:
        _wait_serving(process, port)
    finally:
        _stop(process)


def test_dashboard_port_option_wins_over_streamlit_server_port(world):
    port, ignored = free_port(), free_port()
    process = _start_dashboard(dict(world.env, STREAMLIT_SERVER_PORT=str(ignored)),
                               "--port", str(port))
    try:
        _wait_serving(process, port)
        assert not _serves_health(ignored)
    finally:
        _stop(process)
