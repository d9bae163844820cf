{#- The days the reconciliation tests check, for `sale_date in {{ reconcile_days() }}`: every
    day the newest change-log batch names (the days its sales were and are on, so a day that
    lost all its sales is checked too; every day after a first build or a full refresh). That
    keeps `dbt build` proportional to the new data; run
    `dbt test --vars '{reconcile_all_days: true}'` to check every day. -#}
{% macro reconcile_days() -%}
    {%- if var('reconcile_all_days', false) -%}
        (select sale_date from {{ ref('fct_sales') }})
    {%- else -%}
        {%- set changes = ref('int_sales__changes') -%}
        {{ date_list(
            "select sale_date from " ~ changes ~ " where batch_id = (select max(batch_id) from "
            ~ changes ~ ") and sale_date is not null", changes) }}
    {%- endif -%}
{%- endmacro %}
