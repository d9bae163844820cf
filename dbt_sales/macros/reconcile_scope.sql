{#- The days the last build wrote into fct_sales (every day after a full refresh): the
    reconciliation tests check those, so `dbt build` stays proportional to the new data. Run
    `dbt test --vars '{reconcile_all_days: true}'` to check every day. -#}
{% macro reconcile_days() -%}
    {%- if var('reconcile_all_days', false) -%}
        select distinct sale_date from {{ ref('fct_sales') }}
    {%- else -%}
        select distinct sale_date
        from {{ ref('fct_sales') }}
        where _batch_at = (select max(_batch_at) from {{ ref('fct_sales') }})
    {%- endif -%}
{%- endmacro %}
