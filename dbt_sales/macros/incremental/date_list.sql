{#- The dates `query` returns (one date column), read while the calling node compiles and
    written into its SQL as `(date '2026-03-01', ...)`, for `sale_date in {{ ... }}`.

    Why literals: to a subquery PostgreSQL assigns an estimate, not its values. For "the
    days of the last batch" it guessed every day of fct_sales (rows / distinct days),
    sequentially scanned 10,000,000 rows for a one-day batch, and each KPI model and
    reconciliation test took 1-1.5 s. With the dates in the SQL text the planner reads their
    statistics and uses the sale_date index. `relation` is what `query` reads: until it
    exists (`dbt compile` on an empty database) the subquery itself is returned. -#}
{% macro date_list(query, relation) -%}
    {%- if not execute or load_relation(relation) is none -%}
        {{- return('(' ~ query ~ ')') -}}
    {%- endif -%}
    {%- set days = run_query(
        'select distinct q.day::text from (' ~ query ~ ') as q(day)').columns[0].values() -%}
    {%- if days | length == 0 -%}
        {{- return('(cast(null as date))') -}}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for day in days | sort -%}
        {%- do literals.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    {{- return('(' ~ literals | join(', ') ~ ')') -}}
{%- endmacro %}
