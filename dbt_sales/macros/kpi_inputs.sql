{#- The fct_sales rows a kpi_* mart aggregates: all of them on a full build; on an incremental
    build only the days of the change-log batches newer than the mart's watermark (whole
    days, so day-level ratios and ranks stay exact), as date literals (see date_list).
    Pair with pre_hook delete_pending('sale_date'). -#}
{% macro sales_of_pending_days() -%}
    {#- resolved outside the branch so dbt records the dependency at parse time -#}
    {%- set changes = ref('int_sales__changes') -%}
    select * from {{ ref('fct_sales') }}
    {%- if is_incremental() %}
    where sale_date in {{ date_list(
        'select sale_date from ' ~ changes ~ ' where batch_id > ' ~ batch_watermark()
        ~ ' and sale_date is not null', changes) }}
    {%- endif %}
{%- endmacro %}


{#- The stamp a kpi_* mart writes: the batch fct_sales has consumed (never ahead of it). -#}
{% macro fct_sales_watermark() -%}
    select max(_batch_id) as batch_id from {{ ref('fct_sales') }}
{%- endmacro %}


{#- The input CTEs every kpi_* mart starts with (end with a comma, so the mart's own CTEs
    follow): `sales` (the pending days of fct_sales, canceled included), `fct_watermark`
    (the stamp to write) and, unless `counted=false`, `counted_sales` (canceled left out). -#}
{% macro kpi_inputs(counted=true) -%}
sales as (

    {{ sales_of_pending_days() }}

),

fct_watermark as (

    {{ fct_sales_watermark() }}

),
{%- if counted %}

counted_sales as (

    select * from sales
    where not is_canceled

),
{%- endif %}
{%- endmacro %}


{#- Config shared by the day-incremental kpi_* marts. -#}
{% macro kpi_incremental_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_pending('sale_date') }}",
    ) }}
{%- endmacro %}
