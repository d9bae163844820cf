{#- The days the last build wrote into fct_sales (every day after a full refresh), as a list
    for `sale_date in {{ reconcile_days() }}`: the reconciliation tests check those, so
    `dbt build` stays proportional to the new data. Run
    `dbt test --vars '{reconcile_all_days: true}'` to check every day. -#}
{% macro reconcile_days() -%}
    {%- if var('reconcile_all_days', false) -%}
        (select sale_date from {{ ref('fct_sales') }})
    {%- else -%}
        {{ date_list(
            "select distinct sale_date from " ~ ref('fct_sales')
            ~ " where _batch_id = " ~ latest_batch(ref('fct_sales')),
            ref('fct_sales')) }}
    {%- endif -%}
{%- endmacro %}
