{#- The SQL that differs between warehouses, each piece behind adapter.dispatch: `postgres__`
    is what dbt_sales runs on (and what PostgreSQL-compatible adapters inherit); `default__` is
    the portable form where one exists, else an error naming the macro to write. -#}

{#- `column` ordered by code point whatever the database's locale, so ties and "smallest id"
    do not change with the server's collation. -#}
{% macro code_point_order(column) -%}
    {{- return(adapter.dispatch('code_point_order', 'dbt_sales')(column)) -}}
{%- endmacro %}
{% macro default__code_point_order(column) %}{{ column }}{% endmacro %}
{% macro postgres__code_point_order(column) %}{{ column }} collate "C"{% endmacro %}

{#- A set-returning FROM item of one row per day from `first_day` to `last_day` (SQL
    expressions), for `cross join {{ day_series(...) }} as day`. -#}
{% macro day_series(first_day, last_day) -%}
    {{- return(adapter.dispatch('day_series', 'dbt_sales')(first_day, last_day)) -}}
{%- endmacro %}
{% macro default__day_series(first_day, last_day) -%}
    {{ exceptions.raise_compiler_error(
        "dbt_sales needs " ~ adapter.type() ~ "__day_series(first_day, last_day) on this warehouse") }}
{%- endmacro %}
{% macro postgres__day_series(first_day, last_day) -%}
    generate_series({{ first_day }}, {{ last_day }}, interval '1 day')
{%- endmacro %}

{#- `column` with runs of ASCII whitespace collapsed to one space and the ends trimmed. -#}
{% macro collapse_whitespace(column) -%}
    {{- return(adapter.dispatch('collapse_whitespace', 'dbt_sales')(column)) -}}
{%- endmacro %}
{% macro default__collapse_whitespace(column) -%}
    trim(regexp_replace({{ column }}, '[ \t\r\n\f\v]+', ' '))
{%- endmacro %}
{% macro postgres__collapse_whitespace(column) -%}
    btrim(regexp_replace({{ column }}, '[ \t\r\n\f\v]+', ' ', 'g'), ' ')
{%- endmacro %}

{#- True when `column` matches the regular expression `pattern` (a SQL string literal). -#}
{% macro regex_matches(column, pattern) -%}
    {{- return(adapter.dispatch('regex_matches', 'dbt_sales')(column, pattern)) -}}
{%- endmacro %}
{% macro default__regex_matches(column, pattern) %}regexp_like({{ column }}, {{ pattern }}){% endmacro %}
{% macro postgres__regex_matches(column, pattern) %}{{ column }} ~ {{ pattern }}{% endmacro %}

{#- `as materialized` for a CTE that must be computed once (a PostgreSQL planner hint; other
    warehouses take a plain CTE). -#}
{% macro computed_once() -%}
    {{- return(adapter.dispatch('computed_once', 'dbt_sales')()) -}}
{%- endmacro %}
{% macro default__computed_once() %}as{% endmacro %}
{% macro postgres__computed_once() %}as materialized{% endmacro %}
