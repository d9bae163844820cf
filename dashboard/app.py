"""Sales KPI dashboard: `salespipe dashboard` (or `streamlit run dashboard/app.py`).

The sidebar (language, day, window, region, channel) reruns the whole page when changed; the
rest is one fragment that reruns itself every `DASHBOARD_REFRESH_SECONDS`, so new files show
up without reloading the page. Everything read comes from `marts.*` through `data.Marts`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import (
    DashboardDataError,
    DatabaseUnavailable,
    Marts,
    MartsForbidden,
    MartsMissing,
    Selection,
)
from dashboard.export import csv_bytes
from dashboard.i18n import (
    LANGUAGES,
    format_ago,
    format_change,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    normalize_lang,
    t,
)
from dashboard.queries import ALL
from salespipe.errors import redact
from salespipe.logs import configure as configure_logging
from salespipe.logs import get_logger
from salespipe.settings import Settings, load_settings

log = get_logger("dashboard.app")

WINDOW_OPTIONS = (7, 14, 30, 90)
DEFAULT_WINDOW = 30
_SAW_DATA = "_sidebar_saw_data"
_LAST_STATE = "_last_state"
_NO_VALUE = "—"


@dataclass(frozen=True)
class Filters:
    day: dt.date | None  # None: the latest day with data
    window_days: int
    region: str  # ALL or one region
    channel: str  # ALL or one channel


# --- sidebar ---------------------------------------------------------------------------------

def language_picker() -> str:
    if "lang" not in st.session_state:
        # A shared link like ?lang=pt-BR opens in that language.
        st.session_state["lang"] = normalize_lang(st.query_params.get("lang"))
    lang = st.sidebar.radio(
        "Language / Idioma", list(LANGUAGES), key="lang", format_func=LANGUAGES.__getitem__,
        horizontal=True,
    )
    st.query_params["lang"] = lang
    return lang


def sidebar_filters(marts: Marts, lang: str) -> Filters:
    try:
        _, last_day = marts.day_bounds()
        regions, channels = marts.segments() if last_day else ([], [])
    except DashboardDataError:
        last_day, regions, channels = None, [], []
    # The fragment compares with this to reload the page once the first data arrives, so the
    # region/channel choices appear without a manual reload.
    st.session_state[_SAW_DATA] = last_day is not None
    with st.sidebar:
        st.header(t("filters", lang))
        day = st.date_input(t("day", lang), value=None, key="day", help=t("day_help", lang),
                            format="YYYY-MM-DD")
        window = st.selectbox(
            t("window", lang), WINDOW_OPTIONS, index=WINDOW_OPTIONS.index(DEFAULT_WINDOW),
            key="window", format_func=lambda days: t("window_option", lang, days=days),
        )
        # One value each, so that every segmented view is one key of the segment marts,
        # whose ratios and averages are computed there.
        region = st.selectbox(
            t("region", lang), [ALL, *regions], key="region",
            format_func=lambda v: t("all_regions", lang) if v == ALL else v,
        )
        channel = st.selectbox(
            t("channel", lang), [ALL, *channels], key="channel",
            format_func=lambda v: t("all_channels", lang) if v == ALL else v,
        )
    return Filters(day, int(window), region or ALL, channel or ALL)


# --- live part -------------------------------------------------------------------------------

def _note_state(state: str, detail: str = "") -> None:
    """One log line when the page's state changes, not one per refresh."""
    if st.session_state.get(_LAST_STATE) != state:
        st.session_state[_LAST_STATE] = state
        level = logging.WARNING if state in {"db_unreachable", "forbidden"} else logging.INFO
        log.log(level, "dashboard_state", state=state, detail=detail)


def live(marts: Marts, filters: Filters, lang: str, settings: Settings) -> None:
    """Everything below the title; reruns on its own timer (see `main`)."""
    try:
        render(marts, filters, lang)
        _note_state("ok")
    except MartsMissing as exc:
        waiting(lang)
        _note_state("waiting", str(exc))
    except DatabaseUnavailable as exc:
        seconds = format_number(settings.DASHBOARD_REFRESH_SECONDS, lang)
        st.warning(t("db_unreachable", lang, seconds=seconds), icon=":material/cloud_off:")
        st.caption(redact(str(exc), settings))
        _note_state("db_unreachable", redact(str(exc), settings))
    except MartsForbidden as exc:
        st.error(t("db_forbidden", lang), icon=":material/lock:")
        _note_state("forbidden", str(exc))


def waiting(lang: str) -> None:
    st.info(f"**{t('waiting_title', lang)}**\n\n{t('waiting_body', lang)}",
            icon=":material/hourglass_empty:")


def render(marts: Marts, filters: Filters, lang: str) -> None:
    _, last_day = marts.day_bounds()
    if last_day is not None and not st.session_state.get(_SAW_DATA, False):
        st.rerun(scope="app")
    status_line(marts, lang)
    if last_day is None:
        waiting(lang)
        return
    sel = Selection(filters.day or last_day, filters.window_days, filters.region,
                    filters.channel)
    daily = marts.daily(sel)
    categories = marts.categories(sel)
    products = marts.top_products(sel)

    everyone = t("all", lang)
    st.caption(t("scope", lang, day=format_date(sel.day, lang),
                 start=format_date(sel.start, lang), end=format_date(sel.day, lang),
                 regions=everyone if sel.region == ALL else sel.region,
                 channels=everyone if sel.channel == ALL else sel.channel))
    kpi_cards(sel, daily, categories, products, lang)

    trend_col, category_col = st.columns([3, 2], gap="large")
    with trend_col:
        trend_section(sel, daily, lang)
    with category_col:
        category_section(sel, categories, lang)
    products_section(sel, products, lang)
    quality_section(marts, lang)


def _row(frame: pd.DataFrame, day: dt.date) -> pd.Series | None:
    match = frame[frame["sale_date"] == day]
    return None if match.empty else match.iloc[0]


def _optional(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def kpi_cards(sel: Selection, daily: pd.DataFrame, categories: pd.DataFrame,
              products: pd.DataFrame, lang: str) -> None:
    today, before = _row(daily, sel.day), _row(daily, sel.prev_day)
    vs_before = t("vs_previous_day", lang)
    if today is None or not today["has_sales"]:
        st.info(t("no_sales_day", lang, day=format_date(sel.day, lang)))

    total = _optional(today["total_sales"]) if today is not None else 0.0
    total_before = _optional(before["total_sales"]) if before is not None else None
    ticket = _optional(today["avg_ticket"]) if today is not None else None
    ticket_before = _optional(before["avg_ticket"]) if before is not None else None
    average = _optional(today["moving_avg_7d"]) if today is not None else None
    average_before = _optional(before["moving_avg_7d"]) if before is not None else None

    first, second, third = st.columns(3)
    first.metric(t("kpi_total_sales", lang), format_money(total or 0, lang),
                 format_change(total or 0, total_before, lang), delta_description=vs_before,
                 border=True)
    second.metric(t("kpi_avg_ticket", lang),
                  _NO_VALUE if ticket is None else format_money(ticket, lang),
                  None if ticket is None or ticket_before is None
                  else format_change(ticket, ticket_before, lang),
                  delta_description=vs_before, border=True)
    third.metric(t("kpi_trend", lang),
                 _NO_VALUE if average is None else format_money(average, lang),
                 None if average is None or average_before is None
                 else format_change(average, average_before, lang),
                 delta_description=vs_before, border=True)

    fourth, fifth = st.columns(2)
    if products.empty:
        fourth.metric(t("kpi_top_product", lang), _NO_VALUE, border=True)
    else:
        top = products.iloc[0]
        fourth.metric(t("kpi_top_product", lang), str(top["product_name"]),
                      format_change(int(top["units_day"]), int(top["units_prev_day"]), lang,
                                    money=False),
                      delta_description=t("units_vs_previous_day", lang), border=True)
    day_categories = categories[categories["sale_date"] == sel.day]
    if day_categories.empty:
        fifth.metric(t("kpi_top_category", lang), _NO_VALUE, border=True)
    else:
        top = day_categories.iloc[0]
        previous = categories[(categories["sale_date"] == sel.prev_day)
                              & (categories["product_category"] == top["product_category"])]
        fifth.metric(t("kpi_top_category", lang),
                     f"{top['product_category']} · {format_percent(top['share_of_day'], lang)}",
                     format_change(top["total_sales"],
                                   previous["total_sales"].iloc[0] if not previous.empty else 0,
                                   lang),
                     delta_description=vs_before, border=True)


def download(frame: pd.DataFrame, name: str, sel: Selection | None, lang: str) -> None:
    """Raw values, machine-readable in both languages: comma-separated, dot decimals; text
    cells that a spreadsheet would run as formulas are quoted (`export.csv_bytes`)."""
    suffix = f"_{sel.day.isoformat()}" if sel else ""
    st.download_button(t("download_csv", lang), csv_bytes(frame),
                       file_name=f"{name}{suffix}.csv", mime="text/csv", key=f"csv_{name}",
                       on_click="ignore", icon=":material/download:", type="tertiary")


def trend_section(sel: Selection, daily: pd.DataFrame, lang: str) -> None:
    st.subheader(t("sales_trend", lang))
    st.caption(t("sales_trend_caption", lang))
    window = daily[daily["sale_date"] >= sel.start]
    st.altair_chart(charts.trend_chart(window, lang), width="stretch")
    download(window, "sales_trend", sel, lang)


def category_section(sel: Selection, categories: pd.DataFrame, lang: str) -> None:
    st.subheader(t("sales_by_category", lang))
    st.caption(t("sales_by_category_caption", lang, day=format_date(sel.day, lang)))
    today = categories[categories["sale_date"] == sel.day]
    if today.empty:
        st.caption(t("no_sales_day", lang, day=format_date(sel.day, lang)))
        return
    st.altair_chart(charts.category_chart(today, lang), width="stretch")
    before = categories[categories["sale_date"] == sel.prev_day].set_index("product_category")
    with st.expander(t("table", lang)):
        st.dataframe(pd.DataFrame({
            t("category", lang): today["product_category"],
            t("sales", lang): [format_money(v, lang) for v in today["total_sales"]],
            t("share", lang): [format_percent(v, lang) for v in today["share_of_day"]],
            t("change", lang): [
                format_change(v, before["total_sales"].get(c, 0), lang)
                for c, v in zip(today["product_category"], today["total_sales"], strict=True)
            ],
        }), hide_index=True, width="stretch")
    download(categories, "sales_by_category", sel, lang)


def products_section(sel: Selection, products: pd.DataFrame, lang: str) -> None:
    st.subheader(t("top_products", lang))
    st.caption(t("top_products_caption", lang, n=len(products),
                 start=format_date(sel.start, lang), end=format_date(sel.day, lang)))
    if products.empty:
        return
    chart_col, table_col = st.columns([3, 2], gap="large")
    chart_col.altair_chart(charts.products_chart(products, lang), width="stretch")
    with table_col:
        st.dataframe(pd.DataFrame({
            t("product", lang): products["product_name"],
            t("units", lang): [format_number(v, lang) for v in products["units_sold"]],
            t("revenue", lang): [format_money(v, lang) for v in products["total_sales"]],
        }), hide_index=True, width="stretch")
        download(products, "top_products", sel, lang)


def status_line(marts: Marts, lang: str) -> None:
    """Badges: time since the last loaded file, whether dbt is behind, rejected rows."""
    badges: list[str] = []
    try:
        fresh = marts.freshness()
        last_loaded = fresh and fresh.get("last_file_loaded_at")
        if last_loaded:
            ago = (dt.datetime.now(dt.UTC) - last_loaded).total_seconds()
            badges.append(f":blue-badge[:material/schedule: "
                          f"{t('last_file', lang, ago=format_ago(ago, lang))}]")
        else:
            badges.append(f":gray-badge[{t('no_file_yet', lang)}]")
        if fresh and fresh.get("is_dbt_behind"):
            pending = int(fresh.get("files_pending_dbt") or 0)
            badges.append(f":orange-badge[:material/sync_problem: "
                          f"{t('dbt_behind', lang, n=format_number(pending, lang))}]")
        elif fresh:
            badges.append(f":green-badge[:material/check_circle: {t('dbt_current', lang)}]")
    except MartsMissing:
        pass  # the freshness view comes with the first dbt build; the rest of the page says so
    try:
        rejected = int(marts.rejected_by_reason()["rejected_rows"].sum())
        color = "red" if rejected else "green"
        badges.append(f":{color}-badge[:material/rule: "
                      f"{t('rejected_total', lang, n=format_number(rejected, lang))}]")
    except MartsMissing:
        pass
    if badges:
        st.markdown(" ".join(badges))


def quality_section(marts: Marts, lang: str) -> None:
    st.subheader(t("data_quality", lang))
    product_identity_panel(marts, lang)
    try:
        rejects = marts.rejected_by_reason()
        files = marts.problem_files()
    except MartsMissing:
        st.caption(t("section_unavailable", lang))
        return
    if rejects.empty and files.empty:
        st.caption(t("no_rejects", lang))
        return
    if not rejects.empty:
        st.markdown(f"**{t('rejected_by_reason', lang)}**")
        st.altair_chart(charts.rejects_chart(rejects, lang), width="stretch")
        download(rejects, "rejected_rows_by_reason", None, lang)
    if not files.empty:
        st.markdown(f"**{t('problem_files', lang)}**")
        st.dataframe(pd.DataFrame({
            t("file", lang): files["source_key"],
            t("status", lang): files["status"],
            t("reason", lang): files["reason"].fillna(""),
            t("rows_total", lang): [format_number(v, lang) for v in files["rows_total"]],
            t("rejected_rows", lang): [format_number(v, lang) for v in files["rows_rejected"]],
            t("loaded_at", lang): [format_datetime(v, lang) for v in files["loaded_at"]],
        }), hide_index=True, width="stretch",
            column_config={t("reason", lang): st.column_config.TextColumn(width="large")})
        download(files, "problem_files", None, lang)


def product_identity_panel(marts: Marts, lang: str) -> None:
    """Ids and names that disagree: products are counted by name, so this shows how far the
    sources' ids can be trusted without changing any KPI."""
    try:
        counts = marts.product_identity()
    except MartsMissing:
        st.caption(t("section_unavailable", lang))
        return
    first, second = st.columns(2)
    first.metric(t("ids_with_several_names", lang),
                 format_number(counts["ids_with_several_names"], lang), border=True)
    second.metric(t("names_with_several_ids", lang),
                  format_number(counts["names_with_several_ids"], lang), border=True)
    st.caption(t("product_identity_caption", lang,
                 names=format_number(counts["product_names"], lang),
                 ids=format_number(counts["product_ids"], lang)))


# --- entry -----------------------------------------------------------------------------------

def main() -> None:
    # Least privilege: the page connects as the read-only dashboard role (marts only).
    settings = load_settings().for_component("dashboard")
    # This process is Streamlit's, not the CLI's: its lines take the same shape here.
    configure_logging(settings.LOG_FORMAT, adopt=True)
    st.set_page_config(
        page_title=t("page_title", normalize_lang(st.session_state.get("lang")
                                                  or st.query_params.get("lang"))),
        page_icon=":material/monitoring:", layout="wide",
    )
    lang = language_picker()
    marts = Marts.connect(settings)
    filters = sidebar_filters(marts, lang)
    st.title(t("title", lang))
    refreshing = st.fragment(live, run_every=settings.DASHBOARD_REFRESH_SECONDS)
    refreshing(marts, filters, lang, settings)


main()
