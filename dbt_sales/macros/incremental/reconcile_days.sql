{#- The days the last build touched, as a list for `sale_date in {{ reconcile_days() }}`: the
    days it wrote into fct_sales (every day after a full refresh) and every day its change-log
    batch names, so a day that lost all its sales (moved to another day, or dropped by a new
    object version) is checked too. The reconciliation tests check those, so `dbt build`
    stays proportional to the new data. Run `dbt test --vars '{reconcile_all_days: true}'`
    to check every day. -#}
{% macro reconcile_days() -%}
    {%- if var('reconcile_all_days', false) -%}
        (select sale_date from {{ ref('fct_sales') }})
    {%- else -%}
        {%- set batch = latest_batch(ref('fct_sales')) -%}
        {{ date_list(
            "select sale_date from " ~ ref('fct_sales') ~ " where _batch_id = " ~ batch
            ~ " union select sale_date from " ~ ref('int_sales__changes')
            ~ " where batch_id = " ~ batch ~ " and sale_date is not null",
            ref('fct_sales')) }}
    {%- endif -%}
{%- endmacro %}
