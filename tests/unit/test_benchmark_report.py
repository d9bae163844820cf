"""Every figure of the README's benchmark table comes from a recorded run: the block must be
exactly what `benchmarks.report` renders from `docs/benchmarks.json`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from benchmarks.report import README_BEGIN, README_END, readme_block, update_readme

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
    assert "run invalid" in row and "met" not in row
