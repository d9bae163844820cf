"""Number, money, date and label formats of the dashboard in English and pt-BR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dashboard import i18n


@pytest.mark.parametrize("value, lang, expected", [
    (1234.56, "pt-BR", "R$ 1.234,56"),
    (1234.56, "en", "R$ 1,234.56"),
    (Decimal("1234567.891"), "pt-BR", "R$ 1.234.567,89"),
    (0, "pt-BR", "R$ 0,00"),
    (999.995, "en", "R$ 1,000.00"),
    (0.005, "en", "R$ 0.01"),
    (-13.03, "pt-BR", "-R$ 13,03"),
    (100, "en", "R$ 100.00"),
])
def test_money_keeps_real_sign_and_swaps_separators(value, lang, expected):
    assert i18n.format_money(value, lang) == expected


@pytest.mark.parametrize("value, lang, expected", [
    (1234567, "en", "1,234,567"),
    (1234567, "pt-BR", "1.234.567"),
    (999, "pt-BR", "999"),
    (-1500, "en", "-1,500"),
])
def test_integers_group_thousands(value, lang, expected):
    assert i18n.format_number(value, lang) == expected


def test_percent_uses_the_language_decimal_separator():
    assert i18n.format_percent(Decimal("0.5765"), "pt-BR") == "57,7%"
    assert i18n.format_percent(0.405, "en") == "40.5%"


@pytest.mark.parametrize("current, previous, lang, money, expected", [
    (1734.56, 1234.56, "pt-BR", True, "+R$ 500,00 (+40,5%)"),
    (192.73, 205.76, "en", True, "-R$ 13.03 (-6.3%)"),
    (1234.56, 0, "en", True, "+R$ 1,234.56"),
    (6, 5, "en", False, "+1 (+20.0%)"),
    (5, 0, "pt-BR", False, "+5"),
    (1000, None, "en", True, None),
    (247301.94, 247420.82, "en", True, "-R$ 118.88 (-0.0%)"),
    (100, 100, "pt-BR", True, "+R$ 0,00 (+0,0%)"),
])
def test_change_vs_previous_day(current, previous, lang, money, expected):
    assert i18n.format_change(current, previous, lang, money=money) == expected


def test_dates_follow_the_language():
    day = dt.date(2026, 1, 5)
    assert i18n.format_date(day, "pt-BR") == "05/01/2026"
    assert i18n.format_date(day, "en") == "Jan 05, 2026"
    moment = dt.datetime(2026, 1, 5, 14, 7, tzinfo=dt.UTC)
    assert i18n.format_datetime(moment, "pt-BR") == "05/01/2026 14:07 UTC"


@pytest.mark.parametrize("seconds, lang, expected", [
    (12, "en", "12 s ago"),
    (125, "en", "2 min ago"),
    (7300, "pt-BR", "há 2 h"),
    (3 * 86400 + 5, "pt-BR", "há 3 d"),
    (-4, "en", "0 s ago"),  # clocks a little apart
])
def test_time_ago(seconds, lang, expected):
    assert i18n.format_ago(seconds, lang) == expected


def test_both_languages_have_the_same_labels():
    assert set(i18n.LABELS["en"]) == set(i18n.LABELS["pt-BR"])
    assert set(i18n.LABELS) == set(i18n.LANGUAGES)


def test_issue_wording_for_the_kpis_in_portuguese():
    assert i18n.t("kpi_total_sales", "pt-BR") == "Vendas Totais"
    assert i18n.t("kpi_avg_ticket", "pt-BR") == "Valor Médio por Transação"
    assert i18n.t("top_products", "pt-BR") == "Produtos Mais Vendidos"
    assert i18n.t("sales_by_category", "pt-BR") == "Vendas por Categoria"
    assert i18n.t("sales_trend", "pt-BR") == "Tendência de Vendas"


def test_unknown_language_falls_back_to_english():
    assert i18n.normalize_lang("fr") == "en"
    assert i18n.normalize_lang(None) == "en"
    assert i18n.normalize_lang("pt-BR") == "pt-BR"


def test_chart_locale_matches_the_metric_separators():
    number = i18n.chart_formats("pt-BR")["locale"]["number"]
    assert (number["decimal"], number["thousands"], number["currency"]) == (",", ".", ["R$ ", ""])


def test_a_third_language_needs_labels_only(monkeypatch):
    # es-AR with two labels of its own and one from "es": numbers, money and dates come from
    # its Babel locale, every missing label falls back to English.
    monkeypatch.setitem(i18n.LANGUAGES, "es-AR", "Español (Argentina)")
    monkeypatch.setitem(i18n.LABELS, "es-AR", {"title": "Panel de ventas",
                                               "ago_minutes": "hace {n} min"})
    monkeypatch.setitem(i18n.LABELS, "es", {"language": "Idioma"})
    assert i18n.normalize_lang("es-AR") == "es-AR"
    assert i18n.t("title", "es-AR") == "Panel de ventas"
    assert i18n.t("language", "es-AR") == "Idioma"
    assert i18n.t("filters", "es-AR") == "Filters"
    assert i18n.format_ago(125, "es-AR") == "hace 2 min"
    assert i18n.format_money(-1234.56, "es-AR") == "-R$ 1.234,56"
    assert i18n.format_number(1234567, "es-AR") == "1.234.567"
    assert i18n.format_percent(0.405, "es-AR") == "40,5%"
    assert i18n.format_date(dt.date(2026, 1, 5), "es-AR") == "05/01/2026"
    formats = i18n.chart_formats("es-AR")
    assert (formats["locale"]["number"]["decimal"], formats["date"]) == (",", "%d/%m/%Y")


def test_babel_output_is_kept_plain():
    # No negative zero, and no no-break spaces (French groups with U+202F) in what users copy.
    assert i18n.format_money(-0.004, "pt-BR") == "R$ 0,00"
    assert i18n.format_number(1234567, "fr") == "1 234 567"
    assert i18n.format_date(dt.date(2026, 12, 5), "de") == "05.12.2026"
