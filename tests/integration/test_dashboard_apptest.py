"""The dashboard page, run headless with Streamlit's AppTest against hand-made marts.

Expected strings are worked out by hand from `dashboard_support.SMALL_ROWS`:

    2026-01-15  Sudeste/Online   Bluetooth Headphones       1000.00  6 units  4 tx
                Sudeste/Store    Data Engineering Handbook   234.56  5 units  3 tx
                Nordeste/Online  Brazilian Cookbook          500.00  4 units  2 tx
    2026-01-14  Sudeste/Online   Bluetooth Headphones        800.00  5 units  4 tx
                Nordeste/Store   Brazilian Cookbook          434.56  3 units  2 tx
    2026-01-13  (no sales)
    2026-01-12  Sudeste/Online   Bluetooth Headphones        700.00  3 units  2 tx
    2026-01-05  Sul/Marketplace  Data Engineering Handbook  3798.00 20 units  4 tx
"""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.integration import dashboard_support as support

pytestmark = pytest.mark.integration

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def dash_db(base_settings):
    settings = support.database(base_settings, "t_dash")
    support.create_marts(settings, sales=support.SMALL_ROWS,
                         rejected_rows=support.SMALL_REJECTED_ROWS, files=support.SMALL_FILES)
    return settings


@pytest.fixture(autouse=True)
def fresh_cache():
    # Reads are cached across sessions in the process; each test starts from the database.
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def run_app(monkeypatch, env: dict[str, str], *, lang: str | None = None,
            widgets: dict[str, object] | None = None) -> AppTest:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    for key, value in (widgets or {}).items():
        _widget(at, key).set_value(value)
        at.run()
    assert not at.exception, at.exception
    return at


def _widget(at: AppTest, key: str):
    for kind in ("date_input", "selectbox", "radio"):
        for widget in getattr(at, kind):
            if widget.key == key:
                return widget
    raise AssertionError(f"no widget with key {key!r}")


def metric(at: AppTest, label: str) -> tuple[str, str | None]:
    for m in at.metric:
        if m.label == label:
            return m.value, (m.delta or None)
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_latest_day_kpis_in_english(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en")

    assert metric(at, "Total sales") == ("R$ 1,734.56", "+R$ 500.00 (+40.5%)")
    assert metric(at, "Average value per transaction") == ("R$ 192.73", "-R$ 13.03 (-6.3%)")
    assert metric(at, "Sales trend (7-day average)") == ("R$ 524.16", "+R$ 247.79 (+89.7%)")
    # 30-day default window: the 20 handbooks sold on Jan 5 still lead.
    assert metric(at, "Best-selling product") == ("Data Engineering Handbook", "+5")
    assert metric(at, "Top category") == ("Electronics · 57.7%", "+R$ 200.00 (+25.0%)")


def test_latest_day_kpis_in_portuguese(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="pt-BR")

    assert at.title[0].value == "Painel de vendas"
    assert metric(at, "Vendas Totais") == ("R$ 1.734,56", "+R$ 500,00 (+40,5%)")
    assert metric(at, "Valor Médio por Transação") == ("R$ 192,73", "-R$ 13,03 (-6,3%)")
    assert metric(at, "Tendência de Vendas (média de 7 dias)") == (
        "R$ 524,16", "+R$ 247,79 (+89,7%)")
    assert metric(at, "Produto Mais Vendido") == ("Data Engineering Handbook", "+5")
    assert metric(at, "Categoria Principal") == ("Electronics · 57,7%", "+R$ 200,00 (+25,0%)")


def test_language_switch_changes_labels_and_separators(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en")
    assert metric(at, "Total sales")[0] == "R$ 1,734.56"

    _widget(at, "lang").set_value("pt-BR")
    at.run()

    assert metric(at, "Vendas Totais")[0] == "R$ 1.734,56"
    assert at.query_params["lang"] == "pt-BR"  # a copied link keeps the language


def test_seven_day_window_changes_best_selling_product(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en", widgets={"window": 7})

    assert metric(at, "Best-selling product") == ("Bluetooth Headphones", "+1 (+20.0%)")
    # Day KPIs do not depend on the window.
    assert metric(at, "Total sales")[0] == "R$ 1,734.56"


def test_region_filter_reads_segment_marts(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en",
                 widgets={"region": "Sudeste"})

    assert metric(at, "Total sales") == ("R$ 1,234.56", "+R$ 434.56 (+54.3%)")
    assert metric(at, "Average value per transaction") == ("R$ 176.37", "-R$ 23.63 (-11.8%)")
    # (700.00 + 0 + 800.00 + 1234.56) / 7, the day before: (700.00 + 800.00) / 7
    assert metric(at, "Sales trend (7-day average)") == ("R$ 390.65", "+R$ 176.36 (+82.3%)")
    assert metric(at, "Best-selling product") == ("Bluetooth Headphones", "+1 (+20.0%)")
    assert metric(at, "Top category") == ("Electronics · 81.0%", "+R$ 200.00 (+25.0%)")


def test_channel_filter_reads_segment_marts(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="pt-BR",
                 widgets={"channel": "Store"})

    assert metric(at, "Vendas Totais") == ("R$ 234,56", "-R$ 200,00 (-46,0%)")
    assert metric(at, "Valor Médio por Transação") == ("R$ 78,19", "-R$ 139,09 (-64,0%)")


def test_region_and_channel_together_read_one_segment(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en",
                 widgets={"region": "Sudeste", "channel": "Online"})

    # Jan 15: 1,000.00 in 4 sales; Jan 14: 800.00 in 4
    assert metric(at, "Total sales") == ("R$ 1,000.00", "+R$ 200.00 (+25.0%)")
    assert metric(at, "Average value per transaction") == ("R$ 250.00", "+R$ 50.00 (+25.0%)")
    # Jan 9-15: (700.00 + 800.00 + 1,000.00) / 7 = 357.14; Jan 8-14: 1,500.00 / 7 = 214.29
    assert metric(at, "Sales trend (7-day average)") == ("R$ 357.14", "+R$ 142.85 (+66.7%)")
    assert metric(at, "Top category") == ("Electronics · 100.0%", "+R$ 200.00 (+25.0%)")


def test_choosing_all_again_shows_every_segment(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en", widgets={"region": "Sul"})
    assert metric(at, "Total sales")[0] == "R$ 0.00"

    _widget(at, "region").set_value("")
    at.run()

    assert metric(at, "Total sales") == ("R$ 1,734.56", "+R$ 500.00 (+40.5%)")


@pytest.mark.parametrize("lang, regions, channels", [
    ("en", "All regions", "All channels"),
    ("pt-BR", "Todas as regiões", "Todos os canais"),
])
def test_region_and_channel_filters_offer_all_then_each_value(monkeypatch, dash_db, lang,
                                                              regions, channels):
    at = run_app(monkeypatch, support.app_env(dash_db), lang=lang)

    assert _widget(at, "region").options == [regions, "Nordeste", "Sudeste", "Sul"]
    assert _widget(at, "channel").options == [channels, "Marketplace", "Online", "Store"]
    assert (_widget(at, "region").value, _widget(at, "channel").value) == ("", "")


def test_region_without_sales_that_day_shows_zero_and_no_ticket(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en", widgets={"region": "Sul"})

    assert metric(at, "Total sales")[0] == "R$ 0.00"
    assert metric(at, "Average value per transaction") == ("—", None)
    assert any("No sales on Jan 15, 2026" in i.value for i in at.info)


def test_chosen_day_compares_with_a_day_without_sales(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en",
                 widgets={"day": dt.date(2026, 1, 14)})

    assert metric(at, "Total sales") == ("R$ 1,234.56", "+R$ 1,234.56")
    assert metric(at, "Average value per transaction") == ("R$ 205.76", None)
    # Jan 8-14: (700.00 + 1,234.56) / 7 = 276.37; Jan 7-13, the day before: 700.00 / 7 = 100.00
    assert metric(at, "Sales trend (7-day average)") == ("R$ 276.37", "+R$ 176.37 (+176.4%)")


def test_day_without_sales_shows_its_seven_day_average(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en",
                 widgets={"day": dt.date(2026, 1, 13)})

    assert any("No sales on Jan 13, 2026" in i.value for i in at.info)
    assert metric(at, "Total sales")[0] == "R$ 0.00"
    # Jan 7-13 holds Jan 12's 700.00 (missing days count as 0); Jan 6-12 the same 700.00
    assert metric(at, "Sales trend (7-day average)")[0] == "R$ 100.00"


def test_freshness_and_data_quality(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en")

    badges = markdown_text(at)
    assert "Last file loaded 2 min ago" in badges
    assert "dbt is behind the loader: 2 file(s) waiting" in badges
    assert "6 rejected row(s)" in badges  # 3 + 1 + 2
    files = [df.value for df in at.dataframe if "File" in df.value.columns]
    assert len(files) == 1
    assert list(files[0]["File"]) == [
        "incoming/sales_broken.csv", "incoming/sales_2026-01-15.csv",
        "incoming/sales_2026-01-14.csv",
    ]
    assert files[0]["Reason"].iloc[0] == "missing required column: sale_id"


def test_every_table_has_a_csv_download(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="pt-BR")

    buttons = at.get("download_button")
    assert {b.proto.label for b in buttons} == {"Baixar CSV"}
    assert len(buttons) == 5  # trend, categories, products, reasons, files


def test_one_refresh_makes_few_queries(monkeypatch, dash_db):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sqlalchemy.event.listen(sqlalchemy.Engine, "before_cursor_execute", count)
    try:
        run_app(monkeypatch, support.app_env(dash_db), lang="en")
    finally:
        sqlalchemy.event.remove(sqlalchemy.Engine, "before_cursor_execute", count)

    # sidebar: bounds + segments; fragment: bounds is a cache hit, then freshness, daily,
    # categories, products, product identity, rejected rows by reason, problem files.
    assert len(statements) == 9, statements
    assert all("marts." in s for s in statements)
    assert not any("raw." in s or "staging." in s for s in statements)


@pytest.mark.parametrize("lang, text", [
    ("en", "Waiting for the first file"),
    ("pt-BR", "Aguardando o primeiro arquivo"),
])
def test_missing_marts_show_waiting_state(monkeypatch, base_settings, lang, text):
    settings = support.database(base_settings, "t_dash_nomarts")
    support.drop_marts(settings)

    at = run_app(monkeypatch, support.app_env(settings), lang=lang)

    assert any(text in i.value for i in at.info)
    assert not at.metric


def test_empty_marts_show_waiting_state(monkeypatch, base_settings):
    settings = support.database(base_settings, "t_dash_empty")
    support.create_marts(settings)

    at = run_app(monkeypatch, support.app_env(settings), lang="en")

    assert any("Waiting for the first file" in i.value for i in at.info)
    assert not at.metric


def test_page_fills_in_once_the_marts_are_built(monkeypatch, base_settings):
    settings = support.database(base_settings, "t_dash_later")
    support.drop_marts(settings)
    at = run_app(monkeypatch, support.app_env(settings), lang="en")
    assert not at.metric

    support.create_marts(settings, sales=support.SMALL_ROWS)
    st.cache_data.clear()  # what the TTL does in production
    at.run()

    assert not at.exception
    assert metric(at, "Total sales")[0] == "R$ 1,734.56"
    assert "Sudeste" in _widget(at, "region").options


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_database_shows_a_warning(monkeypatch, base_settings):
    env = support.app_env(base_settings) | {"POSTGRES_PORT": str(_closed_port()),
                                             "POSTGRES_DB": "t_dash"}

    at = run_app(monkeypatch, env, lang="en")

    assert [w.value for w in at.warning] == ["Database unreachable, retrying every 5 s."]
    assert not at.metric

    at2 = run_app(monkeypatch, env, lang="pt-BR")
    assert [w.value for w in at2.warning] == [
        "Banco de dados inacessível, nova tentativa a cada 5 s."]


# -- products are ranked by name (files that draw a new product id on every row) -------------
#
#   2026-02-01  Texas/Online Store  Nuts    PRD30003  4 units  40.00
#               Texas/Online Store  Coffee  PRD50005 10 units 100.00
#   2026-02-02  Texas/Online Store  Nuts    PRD10001  4 units  40.00
#   2026-02-03  Texas/Online Store  Nuts    PRD20002  5 units  50.00
#               Ohio/Marketplace    Soda    PRD10001  2 units   6.00
#
# By name over the window: Nuts 13 units (5 today, 4 the day before), Coffee 10, Soda 2. By id
# Coffee's 10 would beat every Nuts fragment. Ids vs names: Nuts has 3 ids, PRD10001 is Nuts
# and Soda: 3 names, 4 ids, 1 id with several names, 1 name with several ids.

def _upstream_sale(day: str, region: str, channel: str, pid: str, name: str, category: str,
                   units: int, total: str) -> support.Sale:
    return support.Sale(dt.date.fromisoformat(day), region, channel, pid, name, category,
                        Decimal(total), units, 1, Decimal("1.00"))


UPSTREAM_ROWS = (
    _upstream_sale("2026-02-01", "Texas", "Online Store", "PRD30003", "Nuts", "Snacks", 4, "40.00"),
    _upstream_sale("2026-02-01", "Texas", "Online Store", "PRD50005", "Coffee", "Beverages", 10,
                   "100.00"),
    _upstream_sale("2026-02-02", "Texas", "Online Store", "PRD10001", "Nuts", "Beverages", 4,
                   "40.00"),
    _upstream_sale("2026-02-03", "Texas", "Online Store", "PRD20002", "Nuts", "Snacks", 5, "50.00"),
    _upstream_sale("2026-02-03", "Ohio", "Marketplace", "PRD10001", "Soda", "Beverages", 2, "6.00"),
)


@pytest.fixture(scope="module")
def upstream_db(base_settings):
    settings = support.database(base_settings, "t_dash_upstream")
    support.create_marts(settings, sales=UPSTREAM_ROWS)
    return settings


def chart_frames(at: AppTest) -> list:
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    return [convert_arrow_bytes_to_pandas_df(d.data.data)
            for chart in at.get("vega_lite_chart") for d in chart.proto.datasets]


def _products_table(at: AppTest, product_label: str):
    [table] = [df.value for df in at.dataframe if product_label in df.value.columns]
    return table


def test_best_selling_card_table_and_chart_rank_products_by_name(monkeypatch, upstream_db):
    at = run_app(monkeypatch, support.app_env(upstream_db), lang="en")

    assert metric(at, "Best-selling product") == ("Nuts", "+1 (+25.0%)")
    table = _products_table(at, "Product")
    assert list(table["Product"]) == ["Nuts", "Coffee", "Soda"]
    assert list(table["Units"]) == ["13", "10", "2"]
    assert list(table["Revenue"]) == ["R$ 130.00", "R$ 100.00", "R$ 6.00"]
    [bars] = [f for f in chart_frames(at) if "product_name" in f.columns]
    assert sorted(zip(bars["product_name"], bars["units_sold"], strict=True)) == [
        ("Coffee", 10), ("Nuts", 13), ("Soda", 2)]


def test_segment_filter_ranks_products_by_name_too(monkeypatch, upstream_db):
    at = run_app(monkeypatch, support.app_env(upstream_db), lang="pt-BR",
                 widgets={"region": "Texas"})

    assert metric(at, "Produto Mais Vendido") == ("Nuts", "+1 (+25,0%)")
    assert list(_products_table(at, "Produto")["Produto"]) == ["Nuts", "Coffee"]


@pytest.mark.parametrize("lang, several_names, several_ids, caption", [
    ("en", "Product ids with several names", "Product names with several ids",
     "3 product names, 4 product ids."),
    ("pt-BR", "Códigos de produto com vários nomes", "Nomes de produto com vários códigos",
     "3 nomes de produto, 4 códigos de produto."),
])
def test_data_quality_panel_counts_ids_and_names_that_disagree(
    monkeypatch, upstream_db, lang, several_names, several_ids, caption
):
    at = run_app(monkeypatch, support.app_env(upstream_db), lang=lang)

    assert metric(at, several_names) == ("1", None)
    assert metric(at, several_ids) == ("1", None)
    assert any(c.value.startswith(caption) for c in at.caption)


def test_data_quality_panel_shows_zeros_for_one_id_per_product(monkeypatch, dash_db):
    at = run_app(monkeypatch, support.app_env(dash_db), lang="en")

    assert metric(at, "Product ids with several names") == ("0", None)
    assert metric(at, "Product names with several ids") == ("0", None)
    assert any(c.value.startswith("3 product names, 3 product ids.") for c in at.caption)


# -- CSV downloads are formula-safe -----------------------------------------------------------
#
#   2026-02-10  Sul/Online  =HYPERLINK(...)  +Snacks  4 units  40.00
#               Sul/Online  @SUM(A1:A9)      -Books   1 unit   -5.00 (a refund)

HOSTILE_ROWS = (
    support.Sale(dt.date(2026, 2, 10), "Sul", "Online", "P1",
                 '=HYPERLINK("https://evil.example","Nuts")', "+Snacks", Decimal("40.00"), 4, 1,
                 Decimal("10.00")),
    support.Sale(dt.date(2026, 2, 10), "Sul", "Online", "P2", "@SUM(A1:A9)", "-Books",
                 Decimal("-5.00"), 1, 1, Decimal("-5.00")),
)


@pytest.fixture(scope="module")
def hostile_db(base_settings):
    settings = support.database(base_settings, "t_dash_hostile")
    support.create_marts(settings, sales=HOSTILE_ROWS)
    return settings


def test_downloaded_csv_quotes_formula_text_and_keeps_numbers(monkeypatch, hostile_db):
    import csv
    import io

    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    downloads: dict[str, bytes] = {}

    class Recording(MemoryMediaFileStorage):
        """AppTest's in-memory media store, keeping each download button's bytes by name."""

        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
            if filename and isinstance(path_or_data, bytes):
                downloads[filename] = path_or_data
            return super().load_and_get_id(path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)
    run_app(monkeypatch, support.app_env(hostile_db), lang="en")

    rows = list(csv.reader(io.StringIO(downloads["top_products_2026-02-10.csv"].decode(),
                                       newline="")))
    assert rows == [
        ["product_name", "product_category", "units_sold", "total_sales", "units_day",
         "units_prev_day"],
        ['\'=HYPERLINK("https://evil.example","Nuts")', "'+Snacks", "4.0", "40.0", "4.0", "0.0"],
        ["'@SUM(A1:A9)", "'-Books", "1.0", "-5.0", "1.0", "0.0"],  # numbers stay numbers
    ]
