"""The build window's pure parts: which dbt arguments build every mart (only those mark files
built), and how the window and the lock holder reach dbt's environment."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from loader.build_window import BuildWindow, build_env, builds_everything


@pytest.mark.parametrize("args", [
    [],
    ["--exclude", "test_type:unit"],
    ["--exclude=test_type:unit"],
    ["--exclude", "test_type:unit", "test_type:data", "--full-refresh"],
    ["--full-refresh", "--fail-fast"],
    ["--vars", "{full_history_tests: true}"],
])
def test_whole_builds_mark_their_files(args):
    assert builds_everything(args)


@pytest.mark.parametrize("args", [
    ["--select", "kpi_daily_sales+"],
    ["-s", "fct_sales"],
    ["--select=fct_sales"],
    ["-m", "fct_sales"],
    ["--selector", "nightly"],
    ["--exclude", "kpi_daily_sales"],
    ["--exclude", "test_type:unit", "dim_products"],
    ["--exclude=kpi_sales_trend"],
    ["--empty"],
])
def test_partial_builds_mark_nothing(args):
    assert not builds_everything(args)


def test_window_reaches_dbt_as_json_files_and_iso_days():
    window = BuildWindow((3, 7), (dt.date(2026, 3, 1), dt.date(2026, 3, 2)))
    env = build_env(window, 42)
    assert env["SALESPIPE_BUILD_LOCK_PID"] == "42"
    assert json.loads(env["SALESPIPE_BUILD_WINDOW"]) == {
        "new_files": [3, 7], "changed_days": ["2026-03-01", "2026-03-02"]}


def test_a_window_too_large_sends_an_empty_one_so_dbt_recomputes_whole():
    # Empty, not absent: a window left in the caller's environment must not reach dbt.
    assert build_env(BuildWindow((1, 2, 3), None), 42) == {
        "SALESPIPE_BUILD_LOCK_PID": "42", "SALESPIPE_BUILD_WINDOW": ""}
