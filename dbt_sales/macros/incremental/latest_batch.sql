{#- The newest `_batch_id` of `relation`, as a literal read while the calling node compiles
    (in `dbt build`: right after its model was built).

    Why a literal and not `(select max(_batch_id) from ...)`: PostgreSQL plans that subquery
    before it knows the value, and estimates `_batch_id = <unknown>` as rows / distinct
    values, millions of rows on a big table with few batches, so it chose sequential scans
    of the whole table. With the value in the SQL text the planner reads the statistics and
    takes the index: the tests cost what the last batch wrote. Falls back to the subquery
    where the relation does not exist yet (`dbt compile` on an empty database). -#}
{% macro latest_batch(relation) -%}
    {%- set subquery = '(select max(_batch_id) from ' ~ relation ~ ')' -%}
    {%- if not execute or relation.identifier is not defined -%}
        {{- return(subquery) -}}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if existing is none -%}
        {{- return(subquery) -}}
    {%- endif -%}
    {%- set value = run_query('select max(_batch_id)::text from ' ~ relation).columns[0].values()[0] -%}
    {%- if value is none -%}
        {{- return('cast(null as bigint)') -}}
    {%- endif -%}
    {{- return("cast(" ~ value ~ " as bigint)") -}}
{%- endmacro %}
