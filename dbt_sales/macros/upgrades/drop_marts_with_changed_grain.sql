{#- on-run-start of `dbt build` / `dbt run`: drop every incremental model whose existing table
    has a primary key on other columns than its contract declares, i.e. whose grain changed in
    a new release (kpi_product_sales went from product_id to product_name). Appending rows of
    the new grain to those of the old one would fail on the old key or mix the two; dropped,
    the model is built from scratch in this very run, like a --full-refresh of that model
    alone. adapter.drop_relation also updates dbt's relation cache, so the model sees it is
    gone. A table without a primary key is left alone. One catalog query per run. -#}
{% macro drop_marts_with_changed_grain() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set declared = {} -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
        {%- for constraint in node.constraints if constraint.type == 'primary_key' -%}
            {%- do declared.update({(node.schema, node.alias): constraint.columns | sort}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if declared | length == 0 -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set existing = run_query(
        "select n.nspname, c.relname, string_agg(a.attname, ',' order by a.attname)"
        ~ " from pg_index as i"
        ~ " inner join pg_class as c on c.oid = i.indrelid"
        ~ " inner join pg_namespace as n on n.oid = c.relnamespace"
        ~ " inner join pg_attribute as a"
        ~ " on a.attrelid = i.indrelid and a.attnum = any(i.indkey)"
        ~ " where i.indisprimary and n.nspname in ('"
        ~ (declared.keys() | map('first') | unique | join("', '")) ~ "')"
        ~ " group by n.nspname, c.relname") -%}
    {%- for schema, table, columns in existing.rows -%}
        {%- set wanted = declared.get((schema, table)) -%}
        {%- if wanted is not none and columns.split(',') != wanted -%}
            {%- set relation = adapter.get_relation(
                database=target.database, schema=schema, identifier=table) -%}
            {%- do log('grain of ' ~ relation ~ ' changed from ' ~ columns.split(',') ~ ' to '
                ~ wanted ~ ': dropped, rebuilt from scratch', info=true) -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
