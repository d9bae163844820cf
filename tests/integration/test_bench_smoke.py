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
    assert figures["loader_xlsx"]["rows"] == 500 and figures["loader_xlsx"]["rows_per_s"] > 0
    # loader and naive on the same file, alternating samples of each
    assert figures["loader"]["compare_rows"] == figures["loader"]["naive_rows"] == 1_000
    assert len(figures["loader"]["rows_per_s_samples"]) == 3
    assert len(figures["loader"]["naive_rows_per_s_samples"]) == 3
    assert figures["freshness"]["one_by_one"]["n"] == 2
    assert figures["freshness"]["one_by_one_built"]["n"] == 2  # every file's build seen
    burst = figures["freshness"]["burst"]  # a size of its own, timed from the last put
    assert (burst["files"], burst["rows_per_file"]) == (2, 200)
    assert burst["visible_s"] > 0 and burst["built_s"] > 0
    assert figures["dbt_scale"]["large_sales"] == 6_000
    assert figures["dbt_scale"]["dashboard"]["queries"] == 9
    assert figures["loader_at_scale"]["warehouse_sales"] >= 6_000
    assert len(figures["loader_at_scale"]["ceiling_s"]) == 3
    # Both methods ran side by side: each sample also loaded a file of its own (new sale_ids).
    assert len(figures["loader_at_scale"]["new_ids"]["loader_s"]) == 3
    assert len(figures["loader"]["new_ids"]["naive_rows_per_s_samples"]) == 3
    assert figures["loader"]["new_ids"]["speedup"] > 0
    members = figures["loader_members"]  # the headline burst, then each further shape
    assert (members["files"], members["rows_per_file"], members["speedup"] > 0) == (2, 500, True)
    assert [(m["files"], m["rows_per_file"]) for m in members["more"]] == [(2, 1_000)]
    assert all(0 < m["cpu_busy_two_loaders"] <= 1 for m in [members, *members["more"]])
    # the loaders and their builds are a share of the whole machine
    assert all(0 < m["cpu_loaders_two_loaders"] <= 1 for m in [members, *members["more"]])
    assert members["speedup_built"] > 0
    # PostgreSQL's share of the machine; how often a build held the lock (builds ran)
    assert all(0 < m["cpu_postgres_one_loader"] <= 1 for m in [members, *members["more"]])
    assert all(0 < r["build_lane_busy"] <= 1 for r in members["one_loader"])
    # the smoke run's bombs are small, and so is the limit the loader is given for them
    bombs = {f["file"]: f for f in figures["limits"]["files"] if f["file"].startswith("bomb_")}
    assert set(bombs) == {"bomb_80MiB.csv.gz", "bomb_80MiB.zip"}
    assert all(f["status"] == "rejected" and "over the limit of 67,108,864" in f["reason"]
               for f in bombs.values())
    assert figures["watcher"]["objects"] == 300 and figures["watcher"]["polls"] == 10
    assert figures["watcher"]["history_in_incoming"]["poll_ms_median"] > 0
    assert 0 < figures["watcher"]["state_bytes"] <= 1_000_000
    report = (tmp_path / "benchmarks.md").read_text()
    assert "Loader throughput vs naive baseline" in report and "Smoke run" in report
    assert "Loader vs plain COPY of the same file" in report and "Two loaders vs one" in report
    assert "Loader, one .xlsx file" in report
    assert "day visible" in report and "build finished" in report
    assert "burst of 2 × 200 rows: last put → every day visible" in report
