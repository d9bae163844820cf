"""Every line the processes write to stderr parses: logfmt by default, JSON when asked.

Object keys are chosen to break naive logs: a space, a double quote and `=`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.integration import dashboard_support
from tests.integration.loader_support import put, sale, to_csv
from tests.integration.test_loader_processes import SALESPIPE, loader_cmd
from tests.logfmt import parse

pytestmark = pytest.mark.integration

GOOD_KEY = "incoming/red flower.csv"
BAD_KEY = 'incoming/bad "copy" v=2.csv'


def _parse_all(stderr: str, log_format: str) -> list[dict]:
    lines = stderr.splitlines()
    assert lines, "the process wrote no log line"
    return [json.loads(ln) if log_format == "json" else parse(ln) for ln in lines]


def _events(records: list[dict], event: str) -> list[dict]:
    return [r for r in records if r.get("event") == event]


@pytest.mark.parametrize(("flags", "extra_env", "log_format", "dbt"), [
    ((), {}, "logfmt", ()),
    (("--log-format", "json"), {}, "json", ("--no-dbt",)),
    ((), {"LOG_FORMAT": "json"}, "json", ("--no-dbt",)),
], ids=["default-with-dbt", "flag", "env"])
def test_watch_and_load_lines_parse_with_awkward_keys(world, flags, extra_env, log_format, dbt):
    env = dict(world.env, **extra_env)
    put(world, GOOD_KEY, to_csv([sale("L1"), sale("L2", quantity_sold="zero")]))
    put(world, BAD_KEY, b"\x00\x01 not a csv")

    watch = subprocess.run([SALESPIPE, *flags, "watch", "--once", "--topic", world.files_topic],
                           env=env, capture_output=True, text=True, timeout=120)
    assert watch.returncode == 0, watch.stderr
    watched = _parse_all(watch.stderr, log_format)
    assert sorted(r["key"] for r in _events(watched, "announced")) == sorted([GOOD_KEY, BAD_KEY])
    assert all(r["logger"] and r["level"] and r["ts"] for r in watched)

    # The flag also works after the subcommand.
    load = subprocess.run([*loader_cmd(world, *dbt, "--exit-when-idle", "3"), *flags],
                          env=env, capture_output=True, text=True, timeout=180)
    assert load.returncode == 0, load.stderr
    loaded = _parse_all(load.stderr, log_format)
    (good,) = _events(loaded, "file_loaded")
    assert good["key"] == GOOD_KEY
    assert (good["valid"], good["rejected"]) == ((1, 1) if log_format == "json" else ("1", "1"))
    # each stage's time is a field of its own, a number in JSON
    stages = {k: v for k, v in good.items() if k.endswith("_ms")}
    assert {"download_ms", "parse_ms", "copy_ms", "commit_ms"} <= set(stages), good
    assert all(float(v) >= 0 for v in stages.values())
    if log_format == "json":
        assert all(isinstance(v, int | float) for v in stages.values()), stages
    (bad,) = _events(loaded, "file_rejected")
    assert bad["key"] == BAD_KEY
    assert bad["reason"] and " " in bad["reason"]
    if not dbt:  # dbt's own output stays inside the build summary, on the same line
        builds = _events(loaded, "dbt_build")
        assert builds and all(b["success"] == "True" for b in builds), builds


@pytest.mark.parametrize("log_format", ["logfmt", "json"])
def test_generate_upload_lines_are_events(world, log_format):
    proc = subprocess.run([SALESPIPE, "--log-format", log_format, "generate", "--upload",
                           "--date", "2026-02-03", "--days", "2", "--rows", "5", "--seed", "3"],
                          env=world.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    records = _parse_all(proc.stderr, log_format)
    (started,) = _events(records, "generate_started")
    assert (started["first"], started["last"]) == ("2026-02-02", "2026-02-03")
    uploaded = _events(records, "file_uploaded")
    assert sorted(r["key"] for r in uploaded) == ["incoming/sales_2026-02-02.csv",
                                                  "incoming/sales_2026-02-03.csv"]
    assert all(r["bucket"] == world.settings.BUCKET_NAME for r in uploaded)
    assert all(str(r["rows"]) == "5" for r in uploaded)


def test_invalid_log_format_in_the_environment_is_one_clear_error(world):
    proc = subprocess.run([SALESPIPE, "watch", "--once", "--topic", world.files_topic],
                          env=dict(world.env, LOG_FORMAT="yaml"), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("salespipe watch: error: invalid configuration: ('LOG_FORMAT',)")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The dashboard page in a Streamlit runtime of its own process, as `salespipe dashboard` runs it:
# its settings, and so its log format, come from the environment.
_RUN_PAGE = textwrap.dedent("""
    import logging
    import sys
    from streamlit.testing.v1 import AppTest

    # Bare mode (no server) warns that it has no script context before the page runs; a
    # served page never does. Anything else Streamlit says must come out parseable.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True

    at = AppTest.from_file(sys.argv[1], default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    at.run()
""")


@pytest.mark.parametrize("log_format", ["logfmt", "json"])
def test_dashboard_unreachable_database_logs_one_parseable_state_line(base_settings, log_format):
    page = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
    env = dict(dashboard_support.app_env(base_settings), POSTGRES_PORT=str(_closed_port()),
               POSTGRES_DB="t_dash", LOG_FORMAT=log_format)
    proc = subprocess.run([sys.executable, "-c", _RUN_PAGE, page], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    records = _parse_all(proc.stderr, log_format)
    # Two runs in one session, one state change: one line.
    (state,) = _events(records, "dashboard_state")
    assert (state["level"], state["logger"], state["state"]) == (
        "warning", "dashboard.app", "db_unreachable")
    assert "127.0.0.1" in state["detail"] or "localhost" in state["detail"]
