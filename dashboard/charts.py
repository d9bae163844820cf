"""Chart builders: a DataFrame in, an altair chart out (no Streamlit here).

Every chart carries the language's number locale (`i18n.chart_formats`), so axis labels and
tooltips use the same separators as the metrics: `R$ 1.234,56` in pt-BR.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from dashboard.i18n import chart_formats, t

SALES_COLOR = "#4C78A8"
AVERAGE_COLOR = "#F58518"
REJECT_COLOR = "#E45756"


def _localized(chart: alt.TopLevelMixin, lang: str) -> alt.TopLevelMixin:
    return chart.configure(locale=chart_formats(lang)["locale"])


def trend_chart(daily: pd.DataFrame, lang: str) -> alt.LayerChart:
    """Daily `total_sales` as bars and `moving_avg_7d` as a line, by `sale_date`."""
    fmt = chart_formats(lang)
    daily_label, average_label = t("daily_sales", lang), t("moving_avg", lang)
    # Two marks, one legend: each layer colours by a constant column on one shared scale.
    scale = alt.Scale(domain=[daily_label, average_label], range=[SALES_COLOR, AVERAGE_COLOR])
    legend = alt.Legend(orient="top", title=None)
    daily = daily.assign(series_daily=daily_label, series_average=average_label)
    x = alt.X("sale_date:T", title=None,
              axis=alt.Axis(format=fmt["date_axis"], labelAngle=0, tickCount="day"))
    tooltip = [
        alt.Tooltip("sale_date:T", title=t("date", lang), format=fmt["date"]),
        alt.Tooltip("total_sales:Q", title=daily_label, format=fmt["money"]),
        alt.Tooltip("moving_avg_7d:Q", title=average_label, format=fmt["money"]),
    ]
    base = alt.Chart(daily)
    bars = base.mark_bar(opacity=0.75).encode(
        x=x,
        y=alt.Y("total_sales:Q", title=t("sales", lang), axis=alt.Axis(format=fmt["money_axis"])),
        color=alt.Color("series_daily:N", scale=scale, legend=legend),
        tooltip=tooltip,
    )
    line = base.mark_line(point=True, strokeWidth=2.5).encode(
        x=x,
        y=alt.Y("moving_avg_7d:Q"),
        color=alt.Color("series_average:N", scale=scale, legend=legend),
        tooltip=tooltip,
    )
    return _localized(alt.layer(bars, line).properties(height=320), lang)


def category_chart(categories: pd.DataFrame, lang: str) -> alt.Chart:
    """One bar per `product_category`: `total_sales`, share of the day in the tooltip."""
    fmt = chart_formats(lang)
    chart = alt.Chart(categories).mark_bar(color=SALES_COLOR).encode(
        x=alt.X("total_sales:Q", title=t("sales", lang), axis=alt.Axis(format=fmt["money_axis"])),
        y=alt.Y("product_category:N", title=None, sort="-x", axis=alt.Axis(labelLimit=220)),
        tooltip=[
            alt.Tooltip("product_category:N", title=t("category", lang)),
            alt.Tooltip("total_sales:Q", title=t("sales", lang), format=fmt["money"]),
            alt.Tooltip("share_of_day:Q", title=t("share", lang), format=fmt["percent"]),
        ],
    ).properties(height=320)
    return _localized(chart, lang)


def products_chart(products: pd.DataFrame, lang: str) -> alt.Chart:
    """One bar per product: `units_sold` over the window, revenue in the tooltip."""
    fmt = chart_formats(lang)
    chart = alt.Chart(products).mark_bar(color=SALES_COLOR).encode(
        x=alt.X("units_sold:Q", title=t("units", lang), axis=alt.Axis(format=fmt["integer"])),
        y=alt.Y("product_name:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260)),
        tooltip=[
            alt.Tooltip("product_name:N", title=t("product", lang)),
            alt.Tooltip("product_category:N", title=t("category", lang)),
            alt.Tooltip("units_sold:Q", title=t("units", lang), format=fmt["integer"]),
            alt.Tooltip("total_sales:Q", title=t("revenue", lang), format=fmt["money"]),
        ],
    ).properties(height=320)
    return _localized(chart, lang)


def rejects_chart(rejects: pd.DataFrame, lang: str) -> alt.Chart:
    """One bar per rejection `reason`: `rejected_rows`."""
    fmt = chart_formats(lang)
    chart = alt.Chart(rejects).mark_bar(color=REJECT_COLOR).encode(
        x=alt.X("rejected_rows:Q", title=t("rejected_rows", lang),
                axis=alt.Axis(format=fmt["integer"])),
        y=alt.Y("reason:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320)),
        tooltip=[
            alt.Tooltip("reason:N", title=t("reason", lang)),
            alt.Tooltip("rejected_rows:Q", title=t("rejected_rows", lang),
                        format=fmt["integer"]),
            alt.Tooltip("files:Q", title=t("files", lang), format=fmt["integer"]),
        ],
    )
    return _localized(chart, lang)


def files_chart(by_day: pd.DataFrame, lang: str, first_day: dt.date,
                last_day: dt.date) -> alt.Chart:
    """Files per `load_date`, stacked by `status` (loaded / rejected, labels translated).

    The axis spans `first_day`..`last_day` whatever the data, so quiet days show as gaps and
    each bar is one day wide."""
    fmt = chart_formats(lang)
    loaded, rejected = t("status_loaded", lang), t("status_rejected", lang)
    frame = by_day.assign(outcome=by_day["status"].map({"loaded": loaded, "rejected": rejected})
                          .fillna(by_day["status"]))
    domain = [first_day.isoformat(), (last_day + dt.timedelta(days=1)).isoformat()]
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("yearmonthdate(load_date):T", title=None, scale=alt.Scale(domain=domain),
                axis=alt.Axis(format=fmt["date_axis"], labelAngle=0)),
        y=alt.Y("files:Q", title=t("files", lang), axis=alt.Axis(format=fmt["integer"])),
        color=alt.Color("outcome:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=[loaded, rejected],
                                        range=[SALES_COLOR, REJECT_COLOR])),
        tooltip=[
            alt.Tooltip("load_date:T", title=t("date", lang), format=fmt["date"]),
            alt.Tooltip("outcome:N", title=t("status", lang)),
            alt.Tooltip("files:Q", title=t("files", lang), format=fmt["integer"]),
            alt.Tooltip("rows_rejected:Q", title=t("rejected_rows", lang),
                        format=fmt["integer"]),
        ],
    ).properties(height=260)
    return _localized(chart, lang)


def builds_chart(runs: pd.DataFrame, lang: str) -> alt.Chart:
    """One point per completed build: `duration_seconds` by `built_at`."""
    fmt = chart_formats(lang)
    chart = alt.Chart(runs).mark_line(point=True, color=AVERAGE_COLOR).encode(
        x=alt.X("built_at:T", title=None),
        y=alt.Y("duration_seconds:Q", title=t("duration_seconds", lang)),
        tooltip=[
            alt.Tooltip("built_at:T", title=t("built_at", lang), format=fmt["date"] + " %H:%M:%S"),
            alt.Tooltip("duration_seconds:Q", title=t("duration_seconds", lang), format=",.2f"),
            alt.Tooltip("files_new:Q", title=t("new_files", lang), format=fmt["integer"]),
        ],
    ).properties(height=260)
    return _localized(chart, lang)
