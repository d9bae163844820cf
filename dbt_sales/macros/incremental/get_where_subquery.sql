{#- dbt's hook for a test's `where` config, extended with one placeholder:
    `__latest_batch__` becomes the newest `_batch_id` of the tested model (a literal, see
    latest_batch). Tests on the big incremental tables check the rows the last build wrote
    (a full refresh writes them all), so `dbt build` stays proportional to the new data;
    primary keys in the contracts keep uniqueness enforced on the whole table. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__latest_batch__' in where -%}
            {%- set where = where | replace('__latest_batch__', latest_batch(relation)) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
