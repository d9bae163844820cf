"""A served `salespipe dashboard` writes parseable log lines: what operators' log shippers read.

The page is opened in Chromium against an unreachable database; the state change must be one
JSON line (`--log-format json`), and so must every other line on the process's stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_dashboard_browser import (  # noqa: F401 - `browser` is a fixture
    ROOT,
    UI_TIMEOUT_MS,
    _free_port,
    _wait_healthy,
    browser,
)
from tests.integration import dashboard_support as support

pytestmark = pytest.mark.e2e


def test_served_dashboard_logs_unreachable_database_as_one_json_line(base_settings, browser,  # noqa: F811
                                                                       tmp_path):
    from playwright.sync_api import expect

    port = _free_port()
    env = (os.environ | support.app_env(base_settings)
           | {"POSTGRES_PORT": str(_free_port()), "POSTGRES_DB": "t_dash_logs",
              "DO_NOT_TRACK": "1"})
    salespipe = str(Path(sys.executable).parent / "salespipe")
    stderr_path = tmp_path / "dashboard.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603
            [salespipe, "--log-format", "json", "dashboard", "--port", str(port)], env=env,
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", process)
            page = browser.new_page()
            try:
                page.goto(f"http://127.0.0.1:{port}/?lang=en")
                expect(page.get_by_text("Database unreachable, retrying every 5 s.")).to_be_visible(
                    timeout=UI_TIMEOUT_MS)
            finally:
                page.close()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    records = [json.loads(line) for line in stderr_path.read_text().splitlines()]
    states = [r for r in records if r.get("event") == "dashboard_state"]
    assert [(r["level"], r["logger"], r["state"]) for r in states] == [
        ("warning", "dashboard.app", "db_unreachable")]
    assert "Connection refused" in states[0]["detail"]
