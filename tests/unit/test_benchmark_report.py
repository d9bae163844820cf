"""Every figure of the README's benchmark table comes from a recorded run: the block must be
exactly what `benchmarks.report` renders from `docs/benchmarks.json`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from benchmarks.report import README_BEGIN, README_END, readme_block, render, update_readme

ROOT = Path(__file__).resolve().parents[2]
RUN = json.loads((ROOT / "docs" / "benchmarks.json").read_text())


def test_readme_table_is_rendered_from_the_recorded_run():
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    assert readme[start:end] == readme_block(RUN), (
        "README's benchmark table differs from docs/benchmarks.json: run `make bench` "
        "(or the `--only` section you re-measured), never edit the table by hand")


def test_a_changed_figure_changes_the_block():
    changed = copy.deepcopy(RUN)
    changed["dbt_scale"]["ratio"] += 1.0
    assert readme_block(changed) != readme_block(RUN)


def test_update_replaces_only_the_block():
    text = f"intro\n{README_BEGIN}\nold table\n{README_END}\noutro\n"
    out = update_readme(text, RUN)
    assert out.startswith("intro\n") and out.endswith("\noutro\n")
    assert "old table" not in out and readme_block(RUN) in out


def test_a_fair_ceiling_slower_than_the_loader_marks_the_run_invalid():
    run = copy.deepcopy(RUN)
    run["loader_at_scale"].update(method="fresh table", valid=False, share_of_ceiling=1.2)
    row = next(line for line in readme_block(run).splitlines() if "plain COPY" in line)
    assert "run invalid" in row and row.split("|")[-2].strip() == "—"  # no verdict


def test_the_cold_figure_of_the_old_method_is_published_beside_the_warm_one():
    run = copy.deepcopy(RUN)
    run["loader"].update(speedup=21.0, cold_speedup=17.5)
    run["loader_at_scale"].update(method="fresh table", valid=True, share_of_ceiling=0.7,
                                  cold_share_of_ceiling=0.6)
    rows = readme_block(run).splitlines()
    naive = next(line for line in rows if "naive baseline" in line)
    ceiling = next(line for line in rows if "plain COPY" in line)
    assert "21.0× (" in naive and "the method before 2026-12-07: 17.5×" in naive
    assert naive.endswith("| met |")  # the verdict reads the new method's figure
    assert "70% (" in ceiling and "the method before 2026-12-07: 60%" in ceiling
    assert "Method changed on 2026-12-07" in render(run)
    for section, field in (("loader", "cold_speedup"), ("loader_at_scale", "cold_share_of_ceiling")):
        del run[section][field]
    assert "the method before" not in readme_block(run) and "Method changed on" not in render(run)


def test_new_ids_figures_stand_beside_the_same_file_figures_each_with_its_verdict():
    run = copy.deepcopy(RUN)
    run["loader"].update(speedup=19.0, new_ids={"speedup": 22.5, "rows_per_s": 180_000.0,
                                                "naive_rows_per_s": 8_000.0})
    run["loader_at_scale"].update(method="fresh table", valid=True, share_of_ceiling=0.61,
                                  new_ids={"share_of_ceiling": 0.8, "valid": True,
                                           "loader_rows_per_s": 200_000.0,
                                           "ceiling_rows_per_s": 250_000.0})
    rows = readme_block(run).splitlines()
    naive = [line for line in rows if "naive baseline" in line]
    ceiling = [line for line in rows if "plain COPY" in line or "same ceiling" in line]
    assert len(naive) == 2 and len(ceiling) == 2
    assert "loaded again in each sample" in naive[0] and naive[0].endswith("| **missed** |")
    assert "new sale_ids" in naive[1] and "22.5× (180,000 vs 8,000" in naive[1]
    assert naive[1].endswith("| met |")
    assert "loaded again in each sample" in ceiling[0] and ceiling[0].endswith("| **missed** |")
    assert "80% (200,000 vs 250,000" in ceiling[1] and ceiling[1].endswith("| met |")
    assert "Method corrected on 2026-12-07" in render(run)
    run["loader_at_scale"]["new_ids"].update(valid=False)
    ceiling = [line for line in readme_block(run).splitlines() if "same ceiling" in line]
    assert "run invalid" in ceiling[0] and ceiling[0].endswith("| — |")
    del run["loader"]["new_ids"], run["loader_at_scale"]["new_ids"]
    block = readme_block(run)
    assert "new sale_ids" not in block and "loaded again" not in block
    assert "Method corrected" not in render(run)


def _watcher_run(polls_ms: list[float]) -> dict:
    run = copy.deepcopy(RUN)
    run["watcher"] = {
        "server": "versitygw", "objects": 100_000, "polls": len(polls_ms) // 2,
        "polls_ms": polls_ms, "poll_ms_median": sorted(polls_ms)[len(polls_ms) // 2],
        "poll_ms_max": max(polls_ms), "poll_new_ms_median": 5.0, "state_bytes": 110,
        "one_key_list_request_ms": 70.0,
        "history_in_incoming": {"poll_ms_median": 23_000.0, "first_poll_s": 28.0,
                                "state_bytes": 7_000_000}}
    return run


def test_a_slow_first_poll_is_named_and_still_counted():
    run = _watcher_run([555.0, 4.0, 6.0, 5.0])
    text = render(run)
    assert "first (555 ms" in text and "3 after it took at most 6 ms" in text
    row = next(line for line in readme_block(run).splitlines() if "Watcher poll" in line)
    assert row.endswith("**missed** |")
    assert "PostgreSQL" not in row  # a run that did not measure it says nothing of it


def test_member_rows_say_which_resource_saturated_with_one_loader():
    run = copy.deepcopy(RUN)
    shape = {"files": 24, "rows_per_file": 5000, "samples": 3, "method": "keyed, builds on",
             "speedup": 1.1, "speedup_built": 0.9, "cpu_busy_one_loader": 0.7,
             "cpu_busy_two_loaders": 0.72, "cpu_loaders_one_loader": 0.3,
             "cpu_loaders_two_loaders": 0.3, "cpu_postgres_one_loader": 0.35,
             "cpu_postgres_two_loaders": 0.38, "build_lane_busy_one_loader": 0.96,
             "build_lane_busy_two_loaders": 0.93}
    run["loader_members"] = {**shape, "more": [
        {**shape, "build_lane_busy_one_loader": 0.5, "cpu_busy_one_loader": 0.95},
        {**shape, "build_lane_busy_one_loader": 0.5}]}
    rows = [line for line in readme_block(run).splitlines() if "Two loaders" in line]
    assert "PostgreSQL 35% → 38%; a build (one at a time) running 96% → 93% of that time" in rows[0]
    assert rows[0].split("|")[2].endswith("saturated with one loader: the build lane ")
    assert "saturated with one loader: the CPUs |" in rows[1]
    assert "saturated with one loader: neither (both under 90%) |" in rows[2]


def test_no_first_poll_line_when_a_later_poll_is_the_slowest():
    assert "process's first" not in render(_watcher_run([5.0, 300.0, 4.0]))


def test_a_changed_watcher_method_publishes_the_old_figure_beside_the_new():
    old = _watcher_run([4.0, 552.0, 3.0, 4.0])["watcher"] | {"measured_at": "2026-12-06T20:52"}
    run = _watcher_run([4.0, 9.0, 3.0, 4.0])
    run["watcher"]["history_put_by"] = "another process"
    run["watcher_history"] = [old]
    text = render(run)
    assert "one poll took 552 ms" in text and "another process: max 9 ms" in text
    row = next(line for line in readme_block(run).splitlines() if "Watcher poll" in line)
    assert "9 ms (old method: 552 ms max;" in row
    assert "Method changed: until" not in render(_watcher_run([4.0, 9.0, 3.0, 4.0]))


def test_member_rows_of_the_watcher_keyed_method_name_loaded_and_built():
    run = copy.deepcopy(RUN)
    run["loader_members"] = {
        "files": 24, "rows_per_file": 5000, "samples": 3, "method": "keyed, builds on",
        "speedup": 1.25, "speedup_built": 1.1, "cpu_busy_one_loader": 0.6,
        "cpu_busy_two_loaders": 0.9, "cpu_loaders_one_loader": 0.3,
        "cpu_loaders_two_loaders": 0.5, "more": []}
    row = next(line for line in readme_block(run).splitlines() if "Two loaders" in line)
    assert "1.25× to loaded, 1.10× to built" in row and "60% → 90%" in row
    assert row.endswith("**missed** |")


def test_the_report_states_the_rules_its_figures_follow():
    report = render(RUN)
    assert "rendered from a recorded run" in report
    assert "published side by side" in report and "benchmarks-history.jsonl" in report


def test_a_section_measured_again_moves_to_its_history_dated():
    from benchmarks.run import HISTORIES, retire

    recorded = {"machine": {"date": "2026-11-29T19:56:19+00:00"},
                "dbt_scale": {"ratio": 1.3, "label": "old build"},
                "watcher": {"poll_ms_max": 40.0, "measured_at": "2026-12-06T10:00:00+00:00"},
                "dbt_scale_history": [{"ratio": 2.0}]}
    retire(recorded, "dbt_scale")
    retire(recorded, "watcher")
    assert recorded["dbt_scale_history"] == [
        {"ratio": 2.0},
        {"ratio": 1.3, "label": "old build", "measured_at": "2026-11-29T19:56:19+00:00"}]
    assert recorded["watcher_history"] == [
        {"poll_ms_max": 40.0, "measured_at": "2026-12-06T10:00:00+00:00"}]
    assert "measured_at" not in recorded["dbt_scale"]  # the section itself is left as it was
    assert {"loader", "freshness", "dbt_scale", "loader_at_scale"} <= set(HISTORIES)


def test_earlier_figures_with_one_label_are_told_apart_by_their_day():
    run = copy.deepcopy(RUN)
    earlier = {**run["dbt_scale"], "label": "same code", "ratio": 1.25}
    run["dbt_scale_history"] = [{**earlier, "measured_at": "2026-12-01T08:00:00+00:00"},
                                {**earlier, "measured_at": "2026-12-02T08:00:00+00:00"}]
    lines = [ln for ln in render(run).splitlines() if ln.startswith("Before — same code")]
    assert [ln.split(":")[0] for ln in lines] == [
        "Before — same code, measured 2026-12-01", "Before — same code, measured 2026-12-02"]


def test_the_whole_runs_duration_is_rendered_not_typed():
    run = copy.deepcopy(RUN)
    run["bench_seconds"] = 31 * 60 + 10
    assert ", 31 min in all" in readme_block(run).splitlines()[1]
    assert "(everything, 31 min for the run above)" in render(run)
    del run["bench_seconds"]
    assert " min in all" not in readme_block(run) and "min for the run" not in render(run)
