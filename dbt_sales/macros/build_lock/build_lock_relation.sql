{#- The one-row table that says which dbt invocation holds the build lock of this target's
    schemas (`<staging schema>.dbt_build_lock`). -#}
{% macro build_lock_relation() -%}
    {{- return(api.Relation.create(
        database=target.database,
        schema=generate_schema_name('staging', none),
        identifier='dbt_build_lock',
        type='table')) -}}
{%- endmacro %}
