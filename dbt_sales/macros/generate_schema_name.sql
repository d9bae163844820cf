{#- dbt's convention for environments: `--target prod` builds into the schemas the folders
    name (`staging`, `marts`: what the loader maintains and the dashboard reads); any other
    target (an analyst's `dev`) into `<target schema>_staging` and `<target schema>_marts`,
    dbt's default naming. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif target.name == 'prod' -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default__generate_schema_name(custom_schema_name, node) | trim }}
    {%- endif -%}
{%- endmacro %}
