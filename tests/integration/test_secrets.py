"""A whole pipeline run (watcher, loader, warm dbt worker) never writes its secrets: not to
its logs, not to dbt's logs, not to the summaries on sales.loads, not to the database."""

from __future__ import annotations

import signal
import subprocess
import uuid

import pytest

from salespipe.settings import state_dir
from tests.integration.loader_support import consume_all, put, query, sale, to_csv
from tests.integration.test_loader_processes import SALESPIPE, loader_cmd, wait_for

pytestmark = pytest.mark.integration


def _sales_in_marts(world) -> int:
    if query(world, "select to_regclass('marts.fct_sales')")[0][0] is None:
        return 0
    return query(world, "select count(*) from marts.fct_sales")[0][0]


def test_pipeline_run_never_writes_its_secrets(world, tmp_path):
    secret = f"S3cr3t-{uuid.uuid4().hex}"
    # The S3 server accepts any key, so the secret really is the one the processes sign with.
    env = dict(world.env, AWS_SECRET_ACCESS_KEY=secret)
    logs = {name: tmp_path / f"{name}.log" for name in ("watch", "load")}
    dbt_log = state_dir() / "dbt-logs" / "dbt.log"
    dbt_log_start = dbt_log.stat().st_size if dbt_log.exists() else 0
    procs = [
        subprocess.Popen([SALESPIPE, "watch", "--interval", "0.5", "--topic", world.files_topic],
                         env=env, stdout=logs["watch"].open("w"), stderr=subprocess.STDOUT),
        subprocess.Popen(loader_cmd(world), env=env, stdout=logs["load"].open("w"),
                         stderr=subprocess.STDOUT),
    ]
    try:
        bad = sale("Z2", quantity_sold="zero")
        put(world, "incoming/secrets.csv", to_csv([sale("Z1"), bad]))
        put(world, "incoming/broken.csv", b"\x00\x01 not a csv")
        wait_for(lambda: _sales_in_marts(world) == 1, timeout=180)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
    written = {name: path.read_text() for name, path in logs.items()}
    assert "event=file_loaded" in written["load"] and "event=announced" in written["watch"]
    with dbt_log.open("rb") as fh:
        fh.seek(dbt_log_start)
        written["dbt.log"] = fh.read().decode("utf-8", "replace")
    written["sales.loads"] = "\n".join(
        m.value().decode() for m in consume_all(world, world.loads_topic, 5))
    written["raw"] = str(query(world, "select f::text from raw.files f")) + str(
        query(world, "select r::text from raw.sales_rejected r"))
    assert "file_rejected" in written["load"] and "quantity_sold" in written["raw"]
    for where, text in written.items():
        assert secret not in text, f"the secret leaked into {where}"
