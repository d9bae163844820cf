"""A served `salespipe dashboard` writes parseable log lines: what operators' log shippers read.

The page is opened in Chromium against an unreachable database; the state change must be one
JSON line (`--log-format json`), and so must every other line on the process's stderr.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.e2e.browser_support import UI_TIMEOUT_MS, free_port, served_dashboard
from tests.integration import dashboard_support as support

pytestmark = pytest.mark.e2e


def test_served_dashboard_logs_unreachable_database_as_one_json_line(base_settings, browser,
                                                                       tmp_path):
    from playwright.sync_api import expect

    env = (os.environ | support.app_env(base_settings)
           | {"POSTGRES_PORT": str(free_port()), "POSTGRES_DB": "t_dash_logs",
              "DO_NOT_TRACK": "1"})
    stderr_path = tmp_path / "dashboard.stderr"
    with (stderr_path.open("w") as stderr,
          served_dashboard(env, "--log-format", "json", stdout=subprocess.DEVNULL,
                           stderr=stderr) as url):
        page = browser.new_page()
        try:
            page.goto(f"{url}/?lang=en")
            expect(page.get_by_text("Database unreachable, retrying every 5 s.")).to_be_visible(
                timeout=UI_TIMEOUT_MS)
        finally:
            page.close()

    records = [json.loads(line) for line in stderr_path.read_text().splitlines()]
    states = [r for r in records if r.get("event") == "dashboard_state"]
    assert [(r["level"], r["logger"], r["state"]) for r in states] == [
        ("warning", "dashboard.app", "db_unreachable")]
    assert "Connection refused" in states[0]["detail"]
