"""Labels and number/date formats for English and Português (Brasil).

The data is in Brazilian reais in both languages, so money always reads "R$"; only the
separators change: `R$ 1,234.56` in English, `R$ 1.234,56` in pt-BR. Data values (product,
category, region names) are shown as they arrive, untranslated.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Number = int | float | Decimal

LANGUAGES: dict[str, str] = {"en": "English", "pt-BR": "Português (Brasil)"}
DEFAULT_LANG = "en"
CURRENCY = "R$"

# decimal separator, thousands separator
_SEPARATORS: dict[str, tuple[str, str]] = {"en": (".", ","), "pt-BR": (",", ".")}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

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
    """The label `key` in `lang`, with `{placeholders}` filled from `values`."""
    return LABELS[lang][key].format(**values)


def _group(digits: str, thousands: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return thousands.join(parts)


def format_number(value: Number, lang: str, *, decimals: int = 0) -> str:
    """`1234.5` -> `1,234.50` (en) / `1.234,50` (pt-BR); rounds half up, like a cash register."""
    decimal_sep, thousands = _SEPARATORS[lang]
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    text = _group(whole, thousands)
    if decimals:
        text += decimal_sep + fraction
    return sign + text


def format_money(value: Number, lang: str) -> str:
    """`1234.56` -> `R$ 1,234.56` (en) / `R$ 1.234,56` (pt-BR); negatives as `-R$ 13,03`."""
    text = format_number(value, lang, decimals=2)
    if text.startswith("-"):
        return f"-{CURRENCY} {text[1:]}"
    return f"{CURRENCY} {text}"


def format_percent(fraction: Number, lang: str, *, decimals: int = 1) -> str:
    """`0.405` -> `40.5%` (en) / `40,5%` (pt-BR)."""
    return format_number(Decimal(str(fraction)) * 100, lang, decimals=decimals) + "%"


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


def format_date(day: dt.date, lang: str) -> str:
    """`Jan 15, 2026` (en) / `15/01/2026` (pt-BR)."""
    if lang == "pt-BR":
        return day.strftime("%d/%m/%Y")
    return f"{_MONTHS_EN[day.month - 1]} {day.day:02d}, {day.year}"


def format_datetime(moment: dt.datetime, lang: str, *, seconds: bool = False) -> str:
    """A UTC timestamp: `Jan 15, 2026 14:05 UTC` / `15/01/2026 14:05 UTC` (`14:05:09` with
    `seconds`)."""
    utc = moment.astimezone(dt.UTC)
    clock = f"{utc:%H:%M:%S}" if seconds else f"{utc:%H:%M}"
    return f"{format_date(utc.date(), lang)} {clock} UTC"


def format_clock(moment: dt.datetime) -> str:
    """A UTC time of day to the second, the same in both languages: `14:05:09 UTC`."""
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


def chart_formats(lang: str) -> dict[str, Any]:
    """Vega-Lite locale and d3 format strings, so axes and tooltips use the same separators."""
    decimal_sep, thousands = _SEPARATORS[lang]
    return {
        "locale": {
            "number": {
                "decimal": decimal_sep,
                "thousands": thousands,
                "grouping": [3],
                "currency": [f"{CURRENCY} ", ""],
            }
        },
        "money_axis": "$,.0f",
        "money": "$,.2f",
        "integer": ",d",
        "percent": ".1%",
        "date_axis": "%d/%m" if lang == "pt-BR" else "%b %d",
        "date": "%d/%m/%Y" if lang == "pt-BR" else "%b %d, %Y",
    }
