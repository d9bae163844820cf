"""The CLI's promises: clear one-line failures, usable `env`, honest `status`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SALESPIPE = str(Path(sys.executable).parent / "salespipe")


def test_load_with_unreachable_kafka_fails_fast_with_one_line(base_settings, world):
    env = dict(world.env, BOOTSTRAP_SERVERS="127.0.0.1:1")
    # Fast means it gives up by itself (the message names the 20 s budget) instead of
    # retrying forever; how long that takes on a loaded machine is not asserted.
    proc = subprocess.run([SALESPIPE, "load"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    error_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert error_lines == ["salespipe load: error: Kafka at 127.0.0.1:1 did not answer within 20s"]


def test_wrong_database_password_is_reported_without_the_password(base_settings, world):
    secret = "Wr0ng-Pa55word-42"
    env = dict(world.env, POSTGRES_PASSWORD=secret)
    proc = subprocess.run([SALESPIPE, "migrate"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "PostgreSQL unreachable" in proc.stderr
    assert secret not in proc.stderr + proc.stdout


def test_env_exports_work_in_a_plain_shell(base_settings):
    script = (f'eval "$({SALESPIPE} env)" && '
              f'{sys.executable} -c "import os, psycopg; '
              "c = psycopg.connect(host=os.environ['POSTGRES_HOST'], "
              "port=os.environ['POSTGRES_PORT'], user=os.environ['POSTGRES_USER'], "
              "password=os.environ['POSTGRES_PASSWORD'], dbname=os.environ['POSTGRES_DB']); "
              "print(c.execute('select 41 + 1').fetchone()[0])\"")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "42", proc.stderr


def test_status_lists_each_running_service_with_its_address(base_settings):
    proc = subprocess.run([SALESPIPE, "services", "status"], capture_output=True, text=True,
                          timeout=60, check=True)
    lines = proc.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == ["postgres", "s3", "kafka"]
    assert all(ln.split()[1] == "running" for ln in lines), proc.stdout
    assert f":{base_settings.pg_port}" in lines[0]


def test_services_up_is_idempotent(base_settings):
    before = subprocess.run([SALESPIPE, "services", "status"], capture_output=True, text=True,
                            check=True).stdout
    subprocess.run([SALESPIPE, "services", "up"], capture_output=True, text=True, check=True,
                   timeout=120)
    after = subprocess.run([SALESPIPE, "services", "status"], capture_output=True, text=True,
                           check=True).stdout
    assert before == after


def test_docs_serves_the_dbt_site_with_lineage_to_the_dashboard(world):
    import json
    import urllib.request

    from cli.local.process import free_port

    port = free_port()
    proc = subprocess.Popen([SALESPIPE, "docs", "--port", str(port)], env=world.env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        manifest = None
        while time.monotonic() < deadline and manifest is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json") as r:
                    manifest = json.load(r)
            except OSError:
                time.sleep(0.5)
        assert manifest is not None, "docs site did not answer"
        assert "exposure.dbt_sales.dashboard" in manifest["exposures"]
    finally:
        proc.terminate()
        proc.wait(30)
    assert f"http://localhost:{port}" in proc.stdout.read()
