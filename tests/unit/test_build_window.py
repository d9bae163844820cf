"""The build window's pure parts: which dbt arguments build every mart (only those mark files
built), how the window and the lock reach dbt's `--vars`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from loader.build_window import BuildWindow, builds_everything, with_vars


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


def test_window_vars_are_files_and_iso_days():
    window = BuildWindow((3, 7), (dt.date(2026, 3, 1), dt.date(2026, 3, 2)))
    assert window.dbt_vars() == {"new_files": [3, 7],
                                 "changed_days": ["2026-03-01", "2026-03-02"]}


def test_a_window_too_large_sends_no_vars_so_dbt_recomputes_whole():
    assert BuildWindow((1, 2, 3), None).dbt_vars() == {}


def test_vars_merge_with_the_callers_own_and_the_callers_win():
    out = with_vars(["build", "--vars", "{full_history_tests: true, new_files: null}",
                     "--target", "prod"], {"new_files": [1], "salespipe_build_lock_pid": 42})
    assert out[:3] == ["build", "--target", "prod"]
    assert out[3] == "--vars"
    assert json.loads(out[4]) == {"full_history_tests": True, "new_files": None,
                                  "salespipe_build_lock_pid": 42}


def test_vars_given_inline_are_merged_too():
    out = with_vars(["build", "--vars={a: 1}"], {"b": 2})
    assert out[:2] == ["build", "--vars"] and json.loads(out[2]) == {"a": 1, "b": 2}


def test_vars_are_added_when_none_given():
    assert with_vars(["build"], {"b": 2}) == ["build", "--vars", '{"b": 2}']
