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

counted_sales as (

    select * from sales
    where not is_canceled

),

by_segment as (

    select
        sale_date,
        sales_region,
        sales_channel,
        product_category,
        sum(total_value) as total_sales,
        count(*) as transactions,
        sum(quantity_sold) as units_sold,
        sum(gross_profit) as gross_profit
    from counted_sales
    group by sale_date, sales_region, sales_channel, product_category

),

final as (

    select
        by_segment.sale_date,
        by_segment.sales_region,
        by_segment.sales_channel,
        by_segment.product_category,
        cast(by_segment.total_sales as numeric(14, 2)) as total_sales,
        cast(by_segment.transactions as bigint) as transactions,
        cast(by_segment.units_sold as bigint) as units_sold,
        cast(by_segment.gross_profit as numeric(14, 2)) as gross_profit
    from by_segment

)

select * from final
