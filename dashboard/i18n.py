"""Labels and number/date formats of the dashboard and of `salespipe check`.

`LABELS` holds the product's own words, one dict per language; a language that lacks a label
falls back to its base language (`es` for `es-AR`), then to English. Numbers, percentages,
money and dates come from Babel (CLDR), so a new language needs labels only: its separators,
minus sign and date order come with the locale.

The data is in Brazilian reais in every language, so money always reads "R$ " before the
amount; only the separators change: `R$ 1,234.56` in English, `R$ 1.234,56` in pt-BR. Data
values (product, category, region names) are shown as they arrive, untranslated.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, dates, numbers

Number = int | float | Decimal

LANGUAGES: dict[str, str] = {"en": "English", "pt-BR": "Português (Brasil)"}
DEFAULT_LANG = "en"
CURRENCY = "R$"
# The symbol as a literal, not CLDR's "¤": CLDR writes "R$1,234.56" in English and "BRL" in
# Spanish; the product writes "R$ " in every language.
_MONEY_PATTERN = f"'{CURRENCY}' #,##0.00"
# A numeric US date (01/05/2026) is misread elsewhere, so English spells the month out.
# Every other language uses its locale's short numeric date (see `_date_pattern`).
_DATE_PATTERNS: dict[str, str] = {"en": "MMM dd, y"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "Sales dashboard",
        "title": "Sales dashboard",
        "language": "Language",
        "filters": "Filters",
        "day": "Day",
        "day_help": "Leave empty to follow the latest day with data.",
        "window": "Date window",
        "window_option": "Last {days} days",
        "region": "Region",
        "channel": "Channel",
        "all": "All",
        "all_regions": "All regions",
        "all_channels": "All channels",
        "scope": "{day} · window {start} – {end} · region: {regions} · channel: {channels}",
        "kpi_total_sales": "Total sales",
        "kpi_avg_ticket": "Average value per transaction",
        "kpi_top_product": "Best-selling product",
        "kpi_top_category": "Top category",
        "kpi_trend": "Sales trend (7-day average)",
        "vs_previous_day": "vs previous day",
        "units_vs_previous_day": "units vs previous day",
        "no_sales_day": "No sales on {day} for this selection.",
        "top_products": "Best-selling products",
        "top_products_caption": "Top {n} by units sold, {start} – {end}",
        "sales_by_category": "Sales by category",
        "sales_by_category_caption": "Share of {day}'s sales",
        "sales_trend": "Sales trend",
        "sales_trend_caption": "Daily sales and 7-day moving average (missing days count as 0)",
        "daily_sales": "Daily sales",
        "moving_avg": "7-day moving average",
        "date": "Date",
        "sales": "Sales",
        "units": "Units",
        "revenue": "Revenue",
        "share": "Share",
        "change": "Change vs previous day",
        "product": "Product",
        "category": "Category",
        "transactions": "Transactions",
        "avg_ticket": "Average ticket",
        "data_quality": "Data quality",
        "rejected_by_reason": "Rejected rows by reason",
        "reason": "Reason",
        "rejected_rows": "Rejected rows",
        "files": "Files",
        "problem_files": "Files rejected or with rejected rows",
        "file": "File",
        "status": "Status",
        "rows_total": "Rows",
        "loaded_at": "Loaded at",
        "no_rejects": "No rejected rows or files.",
        "ids_with_several_names": "Product ids with several names",
        "names_with_several_ids": "Product names with several ids",
        "product_identity_caption": "{names} product names, {ids} product ids. Products are "
                                    "counted by name, so these do not change the figures above.",
        "download_csv": "Download CSV",
        "table": "Table",
        "last_file": "Last file loaded {ago}",
        "no_file_yet": "No file loaded yet",
        "dbt_behind": "dbt is behind the loader: {n} file(s) waiting",
        "dbt_current": "Marts up to date",
        "rejected_total": "{n} rejected row(s)",
        "waiting_title": "Waiting for the first file…",
        "waiting_body": "The dashboard fills in by itself as soon as the loader has loaded a "
                        "file and dbt has built the marts. Nothing to do here.",
        "db_unreachable": "Database unreachable, retrying every {seconds} s.",
        "db_forbidden": "The dashboard's database user may not read the marts "
                        "(grant select on schema marts).",
        "section_unavailable": "Not available yet (mart not built).",
        "ago_seconds": "{n} s ago",
        "ago_minutes": "{n} min ago",
        "ago_hours": "{n} h ago",
        "ago_days": "{n} d ago",
        "nav_sales": "Sales",
        "nav_pipeline": "Pipeline",
        "pipeline_title": "Pipeline operations",
        "auto_refresh": "Auto-refresh every {seconds} s",
        "refresh_now": "Refresh now",
        "last_refreshed": "Last refreshed {time}",
        "refresh_paused": "auto-refresh paused",
        "files_loaded": "Files loaded",
        "files_rejected": "Files rejected",
        "loader_lag": "Loader lag",
        "loader_lag_help": "Messages on {topic} not yet consumed by the {group} consumer group",
        "lag_messages": "{n} message(s)",
        "lag_unavailable": "Kafka unreachable",
        "last_build": "Last dbt build",
        "build_duration": "took {seconds} s",
        "no_build_yet": "No completed build yet",
        "files_over_time": "Files loaded and rejected",
        "files_over_time_caption": "Per day (UTC), last {days} days",
        "status_loaded": "loaded",
        "status_rejected": "rejected",
        "rejects_by_file": "Rejects per file",
        "rejects_by_file_caption": "Latest file versions rejected or with rejected rows; each "
                                   "reason with its rows",
        "reasons": "Reasons",
        "dbt_builds": "dbt build history",
        "dbt_builds_caption": "Completed builds; duration from the start to the last model and "
                              "test",
        "built_at": "Built at",
        "duration_seconds": "Duration (s)",
        "new_files": "New files",
        "no_builds": "No completed dbt build yet.",
        "no_files": "No file handled yet.",
    },
    "pt-BR": {
        "page_title": "Painel de vendas",
        "title": "Painel de vendas",
        "language": "Idioma",
        "filters": "Filtros",
        "day": "Dia",
        "day_help": "Deixe vazio para acompanhar o dia mais recente com dados.",
        "window": "Janela de datas",
        "window_option": "Últimos {days} dias",
        "region": "Região",
        "channel": "Canal",
        "all": "Todos",
        "all_regions": "Todas as regiões",
        "all_channels": "Todos os canais",
        "scope": "{day} · janela {start} – {end} · região: {regions} · canal: {channels}",
        "kpi_total_sales": "Vendas Totais",
        "kpi_avg_ticket": "Valor Médio por Transação",
        "kpi_top_product": "Produto Mais Vendido",
        "kpi_top_category": "Categoria Principal",
        "kpi_trend": "Tendência de Vendas (média de 7 dias)",
        "vs_previous_day": "vs. dia anterior",
        "units_vs_previous_day": "unidades vs. dia anterior",
        "no_sales_day": "Sem vendas em {day} para esta seleção.",
        "top_products": "Produtos Mais Vendidos",
        "top_products_caption": "Top {n} por unidades vendidas, {start} – {end}",
        "sales_by_category": "Vendas por Categoria",
        "sales_by_category_caption": "Participação nas vendas de {day}",
        "sales_trend": "Tendência de Vendas",
        "sales_trend_caption": "Vendas diárias e média móvel de 7 dias (dias sem vendas contam 0)",
        "daily_sales": "Vendas diárias",
        "moving_avg": "Média móvel de 7 dias",
        "date": "Data",
        "sales": "Vendas",
        "units": "Unidades",
        "revenue": "Receita",
        "share": "Participação",
        "change": "Variação vs. dia anterior",
        "product": "Produto",
        "category": "Categoria",
        "transactions": "Transações",
        "avg_ticket": "Ticket médio",
        "data_quality": "Qualidade dos dados",
        "rejected_by_reason": "Linhas rejeitadas por motivo",
        "reason": "Motivo",
        "rejected_rows": "Linhas rejeitadas",
        "files": "Arquivos",
        "problem_files": "Arquivos rejeitados ou com linhas rejeitadas",
        "file": "Arquivo",
        "status": "Situação",
        "rows_total": "Linhas",
        "loaded_at": "Carregado em",
        "no_rejects": "Nenhuma linha ou arquivo rejeitado.",
        "ids_with_several_names": "Códigos de produto com vários nomes",
        "names_with_several_ids": "Nomes de produto com vários códigos",
        "product_identity_caption": "{names} nomes de produto, {ids} códigos de produto. Os "
                                    "produtos são contados pelo nome; isto não altera os "
                                    "números acima.",
        "download_csv": "Baixar CSV",
        "table": "Tabela",
        "last_file": "Último arquivo carregado {ago}",
        "no_file_yet": "Nenhum arquivo carregado ainda",
        "dbt_behind": "dbt atrasado em relação ao loader: {n} arquivo(s) aguardando",
        "dbt_current": "Marts atualizados",
        "rejected_total": "{n} linha(s) rejeitada(s)",
        "waiting_title": "Aguardando o primeiro arquivo…",
        "waiting_body": "O painel se preenche sozinho assim que o loader carregar um arquivo "
                        "e o dbt construir os marts. Nada a fazer aqui.",
        "db_unreachable": "Banco de dados inacessível, nova tentativa a cada {seconds} s.",
        "db_forbidden": "O usuário do painel não pode ler os marts "
                        "(conceda select no schema marts).",
        "section_unavailable": "Ainda não disponível (mart não construído).",
        "ago_seconds": "há {n} s",
        "ago_minutes": "há {n} min",
        "ago_hours": "há {n} h",
        "ago_days": "há {n} d",
        "nav_sales": "Vendas",
        "nav_pipeline": "Pipeline",
        "pipeline_title": "Operação do pipeline",
        "auto_refresh": "Atualizar automaticamente a cada {seconds} s",
        "refresh_now": "Atualizar agora",
        "last_refreshed": "Atualizado às {time}",
        "refresh_paused": "atualização automática pausada",
        "files_loaded": "Arquivos carregados",
        "files_rejected": "Arquivos rejeitados",
        "loader_lag": "Atraso do loader",
        "loader_lag_help": "Mensagens em {topic} ainda não consumidas pelo grupo de consumidores "
                           "{group}",
        "lag_messages": "{n} mensagem(ns)",
        "lag_unavailable": "Kafka inacessível",
        "last_build": "Último build do dbt",
        "build_duration": "levou {seconds} s",
        "no_build_yet": "Nenhum build concluído ainda",
        "files_over_time": "Arquivos carregados e rejeitados",
        "files_over_time_caption": "Por dia (UTC), últimos {days} dias",
        "status_loaded": "carregado",
        "status_rejected": "rejeitado",
        "rejects_by_file": "Rejeições por arquivo",
        "rejects_by_file_caption": "Versões de arquivo mais recentes rejeitadas ou com linhas "
                                   "rejeitadas; cada motivo com suas linhas",
        "reasons": "Motivos",
        "dbt_builds": "Histórico de builds do dbt",
        "dbt_builds_caption": "Builds concluídos; duração do início até o último modelo e teste",
        "built_at": "Construído em",
        "duration_seconds": "Duração (s)",
        "new_files": "Arquivos novos",
        "no_builds": "Nenhum build do dbt concluído ainda.",
        "no_files": "Nenhum arquivo processado ainda.",
    },
}


def normalize_lang(value: str | None) -> str:
    """A supported language code; anything else (a stale query parameter) means the default."""
    return value if value in LANGUAGES else DEFAULT_LANG


def t(key: str, lang: str, **values: Any) -> str:
    """The label `key` in `lang` (else its base language, else English), with `{placeholders}`
    filled from `values`."""
    for code in (lang, lang.partition("-")[0], DEFAULT_LANG):
        if key in LABELS.get(code, {}):
            return LABELS[code][key].format(**values)
    raise KeyError(key)


@lru_cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang, sep="-")


def _plain(text: str) -> str:
    """Babel's no-break spaces (e.g. French grouping) as plain spaces, which users can type."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _round(value: Number, decimals: int) -> Decimal:
    """Half up, like a cash register (Babel rounds half to even); never a negative zero."""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)


@lru_cache
def _pattern(lang: str, kind: str, decimals: int) -> numbers.NumberPattern:
    """The locale's decimal or percent pattern with exactly `decimals` fraction digits."""
    locale = _locale(lang)
    pattern = copy.copy((locale.decimal_formats if kind == "decimal" else
                         locale.percent_formats)[None])
    pattern.frac_prec = (decimals, decimals)
    return pattern


def format_number(value: Number, lang: str, *, decimals: int = 0) -> str:
    """`1234.5` -> `1,234.50` (en) / `1.234,50` (pt-BR); rounds half up, like a cash register."""
    return _plain(_pattern(lang, "decimal", decimals).apply(_round(value, decimals), _locale(lang)))


def format_money(value: Number, lang: str) -> str:
    """`1234.56` -> `R$ 1,234.56` (en) / `R$ 1.234,56` (pt-BR); negatives as `-R$ 13,03`."""
    return _plain(numbers.format_decimal(_round(value, 2), _MONEY_PATTERN, _locale(lang)))


def format_percent(fraction: Number, lang: str, *, decimals: int = 1) -> str:
    """`0.405` -> `40.5%` (en) / `40,5%` (pt-BR)."""
    rounded = _round(Decimal(str(fraction)) * 100, decimals) / 100
    return _plain(_pattern(lang, "percent", decimals).apply(rounded, _locale(lang)))


def _signed(text: str, negative: bool) -> str:
    # The sign comes from the unrounded value: a drop of 0.04% reads "-0,0%", not "+0,0%".
    text = text.removeprefix("-")
    return ("-" if negative else "+") + text


def format_change(current: Number, previous: Number | None, lang: str, *,
                  money: bool = True) -> str | None:
    """Change from `previous` to `current`, e.g. `+R$ 500,00 (+40,5%)`.

    None when there is nothing to compare with; the percentage is left out when the previous
    value is zero. `st.metric` colours the delta from its leading sign.
    """
    if previous is None:
        return None
    cur, prev = Decimal(str(current)), Decimal(str(previous))
    diff = cur - prev
    text = _signed(format_money(diff, lang) if money else format_number(diff, lang), diff < 0)
    if prev != 0:
        text += f" ({_signed(format_percent(diff / prev, lang), diff * prev < 0)})"
    return text


@lru_cache
def _date_pattern(lang: str) -> str:
    """`MMM dd, y` (en); otherwise the locale's short date with `dd`, `MM` and a 4-digit year:
    `dd/MM/y` (pt-BR, es-AR), `dd.MM.y` (de)."""
    if lang in _DATE_PATTERNS:
        return _DATE_PATTERNS[lang]
    pattern = _locale(lang).date_formats["short"].pattern
    for field, width in (("d", "dd"), ("M", "MM"), ("y", "y")):
        pattern = re.sub(f"{field}+", width, pattern)
    return pattern


def format_date(day: dt.date, lang: str) -> str:
    """`Jan 15, 2026` (en) / `15/01/2026` (pt-BR)."""
    return _plain(dates.format_date(day, _date_pattern(lang), _locale(lang)))


def format_datetime(moment: dt.datetime, lang: str, *, seconds: bool = False) -> str:
    """A UTC timestamp: `Jan 15, 2026 14:05 UTC` / `15/01/2026 14:05 UTC` (`14:05:09` with
    `seconds`)."""
    utc = moment.astimezone(dt.UTC)
    clock = f"{utc:%H:%M:%S}" if seconds else f"{utc:%H:%M}"
    return f"{format_date(utc.date(), lang)} {clock} UTC"


def format_clock(moment: dt.datetime) -> str:
    """A UTC time of day to the second, the same in every language: `14:05:09 UTC`."""
    return f"{moment.astimezone(dt.UTC):%H:%M:%S} UTC"


def format_ago(seconds: float, lang: str) -> str:
    """Elapsed time in the largest whole unit: `45 s ago`, `3 min ago` / `há 3 min`."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return t("ago_seconds", lang, n=seconds)
    if seconds < 3600:
        return t("ago_minutes", lang, n=seconds // 60)
    if seconds < 86400:
        return t("ago_hours", lang, n=seconds // 3600)
    return t("ago_days", lang, n=seconds // 86400)


def _d3_date(pattern: str) -> str:
    """A CLDR date pattern as a d3 time format: `dd/MM/y` -> `%d/%m/%Y`."""
    d3 = {"MMM": "%b", "MM": "%m", "dd": "%d", "y": "%Y"}
    return re.sub("MMM|MM|dd|y", lambda m: d3[m.group()], pattern)


def chart_formats(lang: str) -> dict[str, Any]:
    """Vega-Lite locale and d3 format strings, so axes and tooltips use the same separators
    and date order as the metrics."""
    locale, date = _locale(lang), _date_pattern(lang)
    return {
        "locale": {
            "number": {
                "decimal": numbers.get_decimal_symbol(locale),
                "thousands": _plain(numbers.get_group_symbol(locale)),
                "grouping": [3],
                "currency": [f"{CURRENCY} ", ""],
            }
        },
        "money_axis": "$,.0f",
        "money": "$,.2f",
        "integer": ",d",
        "percent": ".1%",
        "date_axis": _d3_date(re.sub(r"[\s,./-]*y[\s,./-]*", "", date)),
        "date": _d3_date(date),
    }
