"""Chart builders: DataFrame in, altair chart out, with the expected encodings."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import altair as alt
import pandas as pd

from dashboard import charts, queries


def _daily() -> pd.DataFrame:
    return pd.DataFrame({
        "sale_date": [dt.date(2026, 1, 14), dt.date(2026, 1, 15)],
        "total_sales": [1234.56, 1734.56],
        "moving_avg_7d": [276.37, 524.16],
    })


def test_trend_chart_layers_daily_bars_and_moving_average_line():
    chart = charts.trend_chart(_daily(), "en")

    assert isinstance(chart, alt.LayerChart)
    bars, line = chart.layer
    assert bars.mark.type == "bar" and line.mark.type == "line"
    assert bars.encoding.x.shorthand == "sale_date:T"
    assert bars.encoding.y.shorthand == "total_sales:Q"
    assert line.encoding.y.shorthand == "moving_avg_7d:Q"
    spec = chart.to_dict()
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [
        "Daily sales", "7-day moving average"]


def test_trend_chart_in_portuguese_uses_brazilian_separators_and_labels():
    spec = charts.trend_chart(_daily(), "pt-BR").to_dict()

    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["config"]["locale"]["number"]["thousands"] == "."
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Vendas"
    assert spec["layer"][0]["encoding"]["x"]["axis"]["format"] == "%d/%m"
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [
        "Vendas diárias", "Média móvel de 7 dias"]


def test_category_chart_bars_sales_by_category_sorted():
    frame = pd.DataFrame({"product_category": ["Electronics", "Books"],
                          "total_sales": [1000.0, 734.56], "share_of_day": [0.5765, 0.4235]})
    chart = charts.category_chart(frame, "en")

    assert isinstance(chart, alt.Chart)
    assert chart.mark.type == "bar"
    assert chart.encoding.x.shorthand == "total_sales:Q"
    assert chart.encoding.y.shorthand == "product_category:N"
    assert chart.to_dict()["encoding"]["y"]["sort"] == "-x"
    assert [tip.shorthand for tip in chart.encoding.tooltip] == [
        "product_category:N", "total_sales:Q", "share_of_day:Q"]


def test_products_chart_ranks_by_units_with_revenue_in_tooltip():
    frame = pd.DataFrame({"product_name": ["Bluetooth Headphones"],
                          "product_category": ["Electronics"], "units_sold": [14],
                          "total_sales": [2500.0]})
    chart = charts.products_chart(frame, "pt-BR")

    assert chart.encoding.x.shorthand == "units_sold:Q"
    assert chart.encoding.y.shorthand == "product_name:N"
    assert chart.to_dict()["encoding"]["tooltip"][3]["title"] == "Receita"


def test_rejects_chart_counts_rows_by_reason():
    frame = pd.DataFrame({"reason": ["sale_date: missing"], "rejected_rows": [3], "files": [1]})
    chart = charts.rejects_chart(frame, "en")

    assert chart.encoding.x.shorthand == "rejected_rows:Q"
    assert chart.encoding.y.shorthand == "reason:N"


def test_queries_read_marts_only():
    sql = {name: value for name, value in vars(queries).items()
           if name.isupper() and isinstance(value, str)}
    assert sql
    for name, text in sql.items():
        ctes = set(re.findall(r"(\w+) as \(", text))
        for relation in re.findall(r"\b(?:from|join)\s+([\w.]+)", text):
            assert relation.startswith("marts.") or relation in ctes \
                or relation == "generate_series", (name, relation)


def test_queries_take_values_only_as_bound_parameters():
    source = Path(queries.__file__).read_text()
    assert "{" not in source and "%s" not in source and 'f"' not in source
