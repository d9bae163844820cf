{#- Models land in exactly the schema their folder names (`staging`, `marts`), never in
    `<target schema>_<custom>`: the dashboard and the docs name `marts.*` directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
