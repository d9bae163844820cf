"""Pipeline page pieces without a server: charts, SQL hygiene, time formats."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard import charts, i18n, pipeline_queries


def test_files_chart_stacks_translated_outcomes_per_day():
    frame = pd.DataFrame({"load_date": [dt.date(2026, 1, 15)] * 2,
                          "status": ["loaded", "rejected"], "files": [3, 1],
                          "rows_valid": [290, 0], "rows_rejected": [10, 0]})

    spec = charts.files_chart(frame, "pt-BR", dt.date(2026, 1, 1), dt.date(2026, 1, 30)
                              ).to_dict()

    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "load_date"
    assert spec["encoding"]["x"]["timeUnit"] == "yearmonthdate"
    assert spec["encoding"]["x"]["scale"]["domain"] == ["2026-01-01", "2026-01-31"]
    assert spec["encoding"]["y"]["field"] == "files"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["carregado", "rejeitado"]
    assert spec["config"]["locale"]["number"]["decimal"] == ","


def test_builds_chart_plots_duration_by_build_time():
    frame = pd.DataFrame({"built_at": [dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)],
                          "files_new": [2], "duration_seconds": [3.5]})

    spec = charts.builds_chart(frame, "en").to_dict()

    assert spec["encoding"]["x"]["field"] == "built_at"
    assert spec["encoding"]["y"]["field"] == "duration_seconds"
    assert spec["encoding"]["y"]["title"] == "Duration (s)"


def test_pipeline_queries_read_marts_only():
    sql = {name: value for name, value in vars(pipeline_queries).items()
           if name.isupper() and isinstance(value, str)}
    assert set(sql) == {"FILES_BY_DAY", "FILE_TOTALS", "REJECTS_BY_FILE", "DBT_RUNS"}
    for name, text in sql.items():
        ctes = set(re.findall(r"(\w+) as \(", text))
        for relation in re.findall(r"\b(?:from|join)\s+([\w.]+)", text):
            assert relation.startswith("marts.") or relation in ctes, (name, relation)


def test_pipeline_queries_take_values_only_as_bound_parameters():
    source = Path(pipeline_queries.__file__).read_text()
    assert "{" not in source and "%s" not in source and 'f"' not in source


@pytest.mark.parametrize("lang, expected", [
    ("en", "Jan 15, 2026 14:05:09 UTC"),
    ("pt-BR", "15/01/2026 14:05:09 UTC"),
])
def test_datetime_with_seconds(lang, expected):
    moment = dt.datetime(2026, 1, 15, 11, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    assert i18n.format_datetime(moment, lang, seconds=True) == expected


def test_clock_is_utc_to_the_second():
    moment = dt.datetime(2026, 1, 15, 23, 59, 58, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert i18n.format_clock(moment) == "21:59:58 UTC"


def test_every_pipeline_label_exists_in_both_languages():
    assert set(i18n.LABELS["en"]) == set(i18n.LABELS["pt-BR"])
