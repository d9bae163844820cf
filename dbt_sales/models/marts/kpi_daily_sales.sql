-- Incremental by day: on each build, only the days whose sales changed (days_to_rebuild).
-- depends_on: {{ ref('int_sales__changes') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='sale_date',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_days_to_rebuild() }}",
        indexes=[{'columns': ['sale_date']}],
    )
}}

with

sales as (

    select * from {{ ref('fct_sales') }}
    {%- if is_incremental() %}
    where sale_date in {{ days_to_rebuild() }}
    {%- endif %}

),

fct_watermark as (

    select max(_batch_id) as batch_id
    from {{ ref('fct_sales') }}

),

daily as (

    select
        sale_date,
        coalesce(sum(total_value) filter (where not is_canceled), 0) as total_sales,
        count(*) filter (where not is_canceled) as transactions,
        coalesce(sum(quantity_sold) filter (where not is_canceled), 0) as units_sold,
        coalesce(sum(gross_profit) filter (where not is_canceled), 0) as gross_profit,
        count(*) filter (where is_canceled) as canceled_sales
    from sales
    group by sale_date

),

final as (

    select
        daily.sale_date,
        cast(daily.total_sales as numeric(14, 2)) as total_sales,
        cast(daily.transactions as bigint) as transactions,
        cast(round(daily.total_sales / nullif(daily.transactions, 0), 2) as numeric(14, 2))
            as avg_ticket,
        cast(daily.units_sold as bigint) as units_sold,
        cast(daily.gross_profit as numeric(14, 2)) as gross_profit,
        cast(daily.canceled_sales as bigint) as canceled_sales,
        fct_watermark.batch_id as _batch_id
    from daily
    cross join fct_watermark

)

select * from final
