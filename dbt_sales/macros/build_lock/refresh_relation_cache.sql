{#- Make dbt's relation cache match the database once the build lock is held.

    dbt reads which relations exist before on-run-start, i.e. possibly before this build
    waited for another one that created, replaced or dropped some of them. Left stale, the
    cache sends a view or incremental model down the "does not exist yet" path and the build
    fails with `relation ... already exists`. A view another build created meanwhile would
    enter the cache without the view dependencies dbt records when it fills the cache itself,
    and replacing its parent (`drop ... cascade`) would then leave the cache believing it still
    exists; so such a view, when this run builds it anyway, is dropped here instead. -#}
{% macro refresh_relation_cache() -%}
    {%- set nodes = graph.nodes.values()
        | selectattr('resource_type', 'in', ['model', 'seed', 'snapshot']) | list -%}
    {%- set schemas = nodes | map(attribute='schema') | unique | list -%}
    {%- if schemas | length == 0 -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set existing = run_query(
        "select n.nspname, c.relname,"
        ~ " case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' else 'table' end"
        ~ " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        ~ " where c.relkind in ('r', 'p', 'v', 'm') and n.nspname in ('"
        ~ schemas | join("', '") ~ "')") -%}
    {%- set selected = {} -%}
    {%- for node in nodes if node.unique_id in selected_resources -%}
        {%- do selected.update({node.schema ~ '.' ~ node.alias: true}) -%}
    {%- endfor -%}
    {%- set found = [] -%}
    {%- for row in existing.rows -%}
        {%- set relation = api.Relation.create(
            database=target.database, schema=row[0], identifier=row[1], type=row[2]) -%}
        {%- set cached = adapter.get_relation(
            database=target.database, schema=row[0], identifier=row[1]) -%}
        {%- if cached is none and row[2] == 'view' and (row[0] ~ '.' ~ row[1]) in selected -%}
            {%- call statement('drop_uncached_view', auto_begin=true) -%}
                {{ build_lock_role() }}
                drop view if exists {{ relation }} cascade
            {%- endcall -%}
            {%- do adapter.commit() -%}
        {%- else -%}
            {%- do found.append(row[0] ~ '.' ~ row[1]) -%}
            {%- do adapter.cache_added(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in nodes -%}
        {%- if (node.schema ~ '.' ~ node.alias) not in found -%}
            {%- do adapter.cache_dropped(api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
