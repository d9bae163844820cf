"""Pipeline page, for the people who run salespipe: files loaded and rejected over time,
rejects per file with their reasons, dbt build history and durations, and the loader's lag.

Database reads come from `marts.*` only (as the read-only dashboard role); the lag comes from
Kafka. The page refreshes itself like the sales page; the toggle pauses it (to read a table
without it moving), and the caption always says when the numbers were read.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import DatabaseUnavailable, MartsForbidden, MartsMissing
from dashboard.export import csv_bytes
from dashboard.i18n import (
    LANGUAGES,
    format_ago,
    format_clock,
    format_datetime,
    format_number,
    normalize_lang,
    t,
)
from dashboard.pipeline_data import (
    FILES_TOPIC,
    HISTORY_DAYS,
    LOADER_GROUP,
    LagUnavailable,
    PipelineReads,
)
from salespipe.errors import redact
from salespipe.logs import configure as configure_logging
from salespipe.logs import get_logger
from salespipe.settings import Settings, load_settings

log = get_logger("dashboard.pipeline")

AUTO_REFRESH_KEY = "pipeline_auto_refresh"


def language_picker() -> str:
    """The same sidebar switch (and `?lang=` link) as the sales page, sharing its state."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = normalize_lang(st.query_params.get("lang"))
    lang = st.sidebar.radio(
        "Language / Idioma", list(LANGUAGES), key="lang", format_func=LANGUAGES.__getitem__,
        horizontal=True,
    )
    st.query_params["lang"] = lang
    return lang


def download(frame: pd.DataFrame, name: str, lang: str) -> None:
    """Raw values, machine-readable in both languages (as on the sales page)."""
    st.download_button(t("download_csv", lang), csv_bytes(frame),
                       file_name=f"{name}.csv", mime="text/csv", key=f"csv_{name}",
                       on_click="ignore", icon=":material/download:", type="tertiary")


def headline(reads: PipelineReads, lang: str) -> None:
    totals = reads.file_totals()
    runs = reads.dbt_runs()
    loaded, rejected, lag, build = st.columns(4)
    loaded.metric(t("files_loaded", lang), format_number(totals["files_loaded"], lang),
                  border=True)
    rejected.metric(t("files_rejected", lang), format_number(totals["files_rejected"], lang),
                    t("rejected_total", lang, n=format_number(totals["rows_rejected"], lang)),
                    delta_color="off", delta_arrow="off", border=True)
    lag_help = t("loader_lag_help", lang, topic=FILES_TOPIC, group=LOADER_GROUP)
    try:
        waiting = reads.loader_lag()
        lag.metric(t("loader_lag", lang), t("lag_messages", lang,
                                            n=format_number(waiting.messages, lang)),
                   help=lag_help, border=True)
    except LagUnavailable as exc:
        lag.metric(t("loader_lag", lang), "—", t("lag_unavailable", lang), delta_color="off",
                   delta_arrow="off", help=lag_help, border=True)
        log.warning("loader_lag_unavailable", detail=str(exc))
    if runs.empty:
        build.metric(t("last_build", lang), "—", t("no_build_yet", lang), delta_color="off",
                     delta_arrow="off", border=True)
    else:
        last = runs.iloc[0]
        ago = (dt.datetime.now(dt.UTC) - last["built_at"]).total_seconds()
        duration = last["duration_seconds"]
        build.metric(t("last_build", lang), format_ago(ago, lang),
                     None if pd.isna(duration) else
                     t("build_duration", lang, seconds=format_number(duration, lang, decimals=1)),
                     delta_color="off", delta_arrow="off", border=True)


def files_section(reads: PipelineReads, lang: str) -> None:
    st.subheader(t("files_over_time", lang))
    st.caption(t("files_over_time_caption", lang, days=HISTORY_DAYS))
    by_day = reads.files_by_day()
    if by_day.empty:
        st.caption(t("no_files", lang))
        return
    today = dt.datetime.now(dt.UTC).date()
    first_day = today - dt.timedelta(days=HISTORY_DAYS - 1)
    st.altair_chart(charts.files_chart(by_day, lang, first_day, today), width="stretch")


def rejects_section(reads: PipelineReads, lang: str) -> None:
    st.subheader(t("rejects_by_file", lang))
    st.caption(t("rejects_by_file_caption", lang))
    files = reads.rejects_by_file()
    if files.empty:
        st.caption(t("no_rejects", lang))
        return
    statuses = {"loaded": t("status_loaded", lang), "rejected": t("status_rejected", lang)}
    st.dataframe(pd.DataFrame({
        t("file", lang): files["source_key"],
        t("status", lang): [statuses.get(s, s) for s in files["status"]],
        t("loaded_at", lang): [format_datetime(v, lang) for v in files["loaded_at"]],
        t("rows_total", lang): [format_number(v, lang) for v in files["rows_total"]],
        t("rejected_rows", lang): [format_number(v, lang) for v in files["rows_rejected"]],
        t("reasons", lang): files["reasons"],
    }), hide_index=True, width="stretch",
        column_config={t("reasons", lang): st.column_config.TextColumn(width="large")})
    download(files, "rejects_by_file", lang)


def builds_section(reads: PipelineReads, lang: str) -> None:
    st.subheader(t("dbt_builds", lang))
    st.caption(t("dbt_builds_caption", lang))
    runs = reads.dbt_runs()
    if runs.empty:
        st.caption(t("no_builds", lang))
        return
    chart_col, table_col = st.columns([3, 2], gap="large")
    timed = runs.dropna(subset=["duration_seconds"])
    if not timed.empty:
        chart_col.altair_chart(charts.builds_chart(timed, lang), width="stretch")
    table_col.dataframe(pd.DataFrame({
        t("built_at", lang): [format_datetime(v, lang, seconds=True) for v in runs["built_at"]],
        t("duration_seconds", lang): ["—" if pd.isna(v) else format_number(v, lang, decimals=1)
                                      for v in runs["duration_seconds"]],
        t("new_files", lang): [format_number(v, lang) for v in runs["files_new"]],
    }), hide_index=True, width="stretch")
    with table_col:
        download(runs, "dbt_builds", lang)


def live(reads: PipelineReads, lang: str, auto: bool, settings: Settings) -> None:
    """Everything below the controls; reruns on its own timer unless paused."""
    stamp = t("last_refreshed", lang, time=format_clock(dt.datetime.now(dt.UTC)))
    st.caption(stamp if auto else f"{stamp} · {t('refresh_paused', lang)}")
    try:
        headline(reads, lang)
        files_section(reads, lang)
        rejects_section(reads, lang)
        builds_section(reads, lang)
    except MartsMissing:
        st.info(f"**{t('waiting_title', lang)}**\n\n{t('waiting_body', lang)}",
                icon=":material/hourglass_empty:")
    except DatabaseUnavailable as exc:
        seconds = format_number(settings.DASHBOARD_REFRESH_SECONDS, lang)
        st.warning(t("db_unreachable", lang, seconds=seconds), icon=":material/cloud_off:")
        st.caption(redact(str(exc), settings))
    except MartsForbidden:
        st.error(t("db_forbidden", lang), icon=":material/lock:")


def main() -> None:
    # Least privilege: the page connects as the read-only dashboard role (marts only).
    settings = load_settings().for_component("dashboard")
    # This process is Streamlit's, not the CLI's: its lines take the same shape here.
    configure_logging(settings.LOG_FORMAT, adopt=True)
    lang = normalize_lang(st.session_state.get("lang") or st.query_params.get("lang"))
    st.set_page_config(page_title=t("pipeline_title", lang), page_icon=":material/account_tree:",
                       layout="wide")
    lang = language_picker()
    st.title(t("pipeline_title", lang))
    seconds = format_number(settings.DASHBOARD_REFRESH_SECONDS, lang)
    auto_col, button_col = st.columns([4, 1], vertical_alignment="center")
    auto = auto_col.toggle(t("auto_refresh", lang, seconds=seconds), value=True,
                           key=AUTO_REFRESH_KEY)
    # While paused, the page changes only when asked to (the click reruns it).
    button_col.button(t("refresh_now", lang), icon=":material/refresh:", disabled=auto,
                      key="pipeline_refresh_now")
    reads = PipelineReads.connect(settings)
    panel = st.fragment(live, run_every=settings.DASHBOARD_REFRESH_SECONDS if auto else None)
    panel(reads, lang, auto, settings)


main()
