-- Incremental by day: each build recomputes the build window's days (macros/build_window.sql).

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_build_window() }}",
        indexes=[{'columns': ['sale_date']}],
    )
}}

with

sales as (

    select * from {{ ref('fct_sales') }}
    {%- if is_incremental() %}
    where {{ in_build_window('sale_date') }}
    {%- endif %}

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
        cast(daily.canceled_sales as bigint) as canceled_sales
    from daily

)

select * from final
