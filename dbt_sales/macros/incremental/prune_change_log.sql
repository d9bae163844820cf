{#- on-run-end: delete the change-log rows every consumer has already applied, so
    int_sales__changes stays as small as the work still pending instead of growing by one
    row per sale forever.

    Consumers are found in the graph (every model that depends on int_sales__changes), so a
    new mart is covered without editing this macro. A consumer's position is the newest
    `_batch_id` it wrote; an empty or missing consumer has applied nothing, and then nothing
    is pruned. The newest batch always stays: its marker row (sale_id null) is the change
    log's own watermark, and its days are what the reconciliation tests check (reconcile_days),
    also in a later `dbt test`. A killed run never gets here and prunes nothing. -#}
{% macro prune_change_log() -%}
    {%- if not writes_warehouse() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set log_node = graph.nodes.values() | selectattr('name', 'equalto', 'int_sales__changes')
        | first -%}
    {%- set change_log = adapter.get_relation(
        database=log_node.database, schema=log_node.schema, identifier=log_node.alias) -%}
    {%- if change_log is none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set positions = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and log_node.unique_id in node.depends_on.nodes -%}
            {%- set consumer = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if consumer is none -%}
                {{- return('') -}}
            {%- endif -%}
            {%- do positions.append(
                "select coalesce(max(_batch_id), 0) as applied from " ~ consumer) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if positions | length == 0 -%}
        {{- return('') -}}
    {%- endif -%}
    {#- Kept rows are copied aside and the table truncated, rather than the applied rows
        deleted: after a backfill the log holds millions of applied rows, and deleting them
        left as many dead rows for every later build to scan until autovacuum came by
        (2.8 s per build at 10,000,000 sales); what is kept is small. #}
    create temporary table change_log_kept on commit drop as
    select * from {{ change_log }}
    where batch_id > (select min(applied) from ({{ positions | join(' union all ') }}) as consumers)
        or batch_id = (select max(batch_id) from {{ change_log }});
    truncate {{ change_log }};
    insert into {{ change_log }} select * from change_log_kept
{%- endmacro %}
