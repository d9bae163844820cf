{#- Make dbt's relation cache match the database once the build lock is held.

    dbt reads which relations exist before on-run-start, i.e. possibly before this build
    waited for another one that created, replaced or dropped some of them. Left stale, the
    cache sends a view or incremental model down the "does not exist yet" path and the build
    fails with `relation ... already exists`. A view another build created meanwhile would
    enter the cache without the view dependencies dbt records when it fills the cache itself,
    and replacing its parent (`drop ... cascade`) would then leave the cache believing it still
    exists; so such a view, when this run builds it anyway, is dropped here instead.

    The same holds for a view dbt did see, when it saw it while another build was replacing
    a parent (the view then depended on `<parent>__dbt_backup`, so dbt recorded no link to the
    parent). Every view this run builds after a parent view it also builds is gone by then
    (the parent's replacement drops it with cascade), so the cache is told so now. -#}
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
    {%- set view_parents = run_query(
        "select distinct cn.nspname || '.' || c.relname,"
        ~ " pn.nspname || '.' || regexp_replace(p.relname, '__dbt_backup$', '')"
        ~ " from pg_depend as d"
        ~ " join pg_rewrite as r on r.oid = d.objid"
        ~ " join pg_class as c on c.oid = r.ev_class"
        ~ " join pg_namespace as cn on cn.oid = c.relnamespace"
        ~ " join pg_class as p on p.oid = d.refobjid and p.relkind = 'v' and p.oid <> c.oid"
        ~ " join pg_namespace as pn on pn.oid = p.relnamespace"
        ~ " where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass"
        ~ " and cn.nspname in ('" ~ schemas | join("', '") ~ "')") -%}
    {%- for view, parent in view_parents.rows
        if view in selected and parent in selected and view in found -%}
        {%- do found.remove(view) -%}
    {%- endfor -%}
    {%- for node in nodes -%}
        {%- if (node.schema ~ '.' ~ node.alias) not in found -%}
            {%- do adapter.cache_dropped(api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
