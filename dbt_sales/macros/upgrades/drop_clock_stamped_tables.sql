{#- on-run-start of `dbt build` / `dbt run`, after the build lock: drop every incremental
    model whose existing table still has a clock-stamped batch column (`batch_at` /
    `_batch_at`, from releases that stamped batches with the build's start time instead of
    the batch sequence). Their watermarks cannot be compared with batch ids, so they are
    rebuilt from scratch in this very run, like a --full-refresh of those models alone. A
    no-op (one catalog query) on a warehouse built by this release. -#}
{% macro drop_clock_stamped_tables() -%}
    {%- if not writes_warehouse() or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set incremental = {} -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
        {%- do incremental.update({node.schema ~ '.' ~ node.alias: node}) -%}
    {%- endfor -%}
    {%- if incremental | length == 0 -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set stamped = run_query(
        "select distinct table_schema, table_name from information_schema.columns"
        ~ " where column_name in ('batch_at', '_batch_at') and table_schema in ('"
        ~ (incremental.values() | map(attribute='schema') | unique | join("', '")) ~ "')") -%}
    {%- for schema, table in stamped.rows if (schema ~ '.' ~ table) in incremental -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema=schema, identifier=table) -%}
        {%- if relation is not none -%}
            {%- do log(relation ~ ' has clock-stamped batches: dropped, rebuilt from scratch',
                info=true) -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
