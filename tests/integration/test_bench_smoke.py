"""`make bench` on tiny inputs, so the benchmark code never rots (figures are not checked)."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.integration


def test_benchmark_smoke_run_writes_report_and_figures(base_settings, tmp_path):
    from benchmarks.run import main
    from salespipe import db

    def scratch():
        with db.connect(base_settings, dbname="postgres", autocommit=True) as conn:
            return {r[0] for r in conn.execute(
                "select datname from pg_database where datname like 'bench\\_%'")}

    def pointers():
        return {name: os.environ.get(name) for name in base_settings.as_env()}

    before, environ = scratch(), pointers()
    assert main(["--smoke", "--out", str(tmp_path)]) == 0
    assert scratch() == before  # its two warehouses are dropped at the end
    assert pointers() == environ  # and this process's settings do not point at them
    figures = json.loads((tmp_path / "benchmarks.json").read_text())
    assert figures["loader"]["rows"] == 5_000
    assert figures["loader"]["speedup"] > 0 and figures["loader"]["peak_rss_mb"] > 0
    assert figures["freshness"]["one_by_one"]["n"] == 2
    assert figures["dbt_scale"]["large_sales"] == 6_000
    assert figures["dbt_scale"]["dashboard"]["queries"] == 9
    report = (tmp_path / "benchmarks.md").read_text()
    assert "Loader throughput vs naive baseline" in report and "Smoke run" in report
