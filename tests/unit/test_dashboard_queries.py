"""The sales page's SQL derives no KPI: ratios and averages are mart columns, read by key."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from dashboard import queries
from dashboard.data import Selection

SQL = {name: value for name, value in vars(queries).items()
       if name.isupper() and isinstance(value, str) and "select" in value}


@pytest.mark.parametrize("name", sorted(SQL))
def test_query_computes_no_ratio_average_or_window(name):
    sql = SQL[name]
    assert not re.search(r"\b(avg|round|nullif)\s*\(", sql, re.IGNORECASE), name
    assert not re.search(r"\bover\s*\(", sql, re.IGNORECASE), name
    assert not re.search(r"[\w)]\s*/\s*[\w(]", sql), name  # no division
    assert "generate_series" not in sql, name  # no calendar of its own: the marts have every day


def test_daily_and_categories_read_one_segment_key_for_filtered_and_unfiltered_views():
    for name in ("DAILY", "CATEGORIES"):
        assert "sales_region = :region" in SQL[name]
        assert "sales_channel = :channel" in SQL[name]


def test_selection_without_filters_is_the_all_key():
    sel = Selection(dt.date(2026, 1, 15), 7)

    assert not sel.is_segmented
    assert sel.segment_params() == {"region": queries.ALL, "channel": queries.ALL}


@pytest.mark.parametrize("region, channel", [("Sul", queries.ALL), (queries.ALL, "Store"),
                                             ("Sul", "Store")])
def test_selection_with_a_region_or_a_channel_is_segmented(region, channel):
    sel = Selection(dt.date(2026, 1, 15), 7, region, channel)

    assert sel.is_segmented
    assert sel.segment_params() == {"region": region, "channel": channel}


def test_all_key_is_the_one_dbt_writes_and_the_segment_query_tests():
    macro = (Path(__file__).resolve().parents[2] / "dbt_sales" / "macros" / "all_segments.sql")
    body = re.search(r"%}\s*(.*?)\s*{%-? endmacro", macro.read_text(), re.DOTALL).group(1)
    assert body == f"'{queries.ALL}'"
    assert SQL["TOP_PRODUCTS_SEGMENT"].count(f"= '{queries.ALL}'") == 2
