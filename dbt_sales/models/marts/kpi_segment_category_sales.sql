{#- Sales per day and category for every region x channel choice, share of the day included
    (grain: sale_date, sales_region, sales_channel, product_category; categories that sold
    only). Rows for "all regions" / "all channels" carry all_segments(); the all/all rows
    equal kpi_category_sales. Each day stands alone, so it is built like the other day-grain
    marts: rebuilt whole, it was the slowest model of a one-file build (1.3 s with two years
    of daily files: 115,000 rows in, 173,000 out). -#}

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

segment_sales as (

    select * from {{ ref('kpi_segment_sales') }}
    {%- if is_incremental() %}
    where {{ in_build_window('sale_date') }}
    {%- endif %}

),

by_category as (

    select
        sale_date,
        case when grouping(sales_region) = 1 then {{ all_segments() }} else sales_region end
            as sales_region,
        case when grouping(sales_channel) = 1 then {{ all_segments() }} else sales_channel end
            as sales_channel,
        product_category,
        sum(total_sales) as total_sales,
        sum(units_sold) as units_sold,
        sum(transactions) as transactions
    from segment_sales
    group by grouping sets (
        (sale_date, sales_region, sales_channel, product_category),
        (sale_date, sales_region, product_category),
        (sale_date, sales_channel, product_category),
        (sale_date, product_category)
    )

),

-- the segment's day total, already summed there (a join, not a sort of every row)
segment_days as (

    select * from {{ ref('kpi_segment_trend') }}
    {%- if is_incremental() %}
    where {{ in_build_window('sale_date') }}
    {%- endif %}

),

with_share as (

    select
        by_category.*,
        by_category.total_sales / nullif(segment_days.total_sales, 0) as share_raw
    from by_category
    inner join segment_days
        on segment_days.sale_date = by_category.sale_date
        and segment_days.sales_region = by_category.sales_region
        and segment_days.sales_channel = by_category.sales_channel

),

final as (

    select
        with_share.sale_date,
        with_share.sales_region,
        with_share.sales_channel,
        with_share.product_category,
        cast(with_share.total_sales as numeric(14, 2)) as total_sales,
        cast(with_share.units_sold as bigint) as units_sold,
        cast(with_share.transactions as bigint) as transactions,
        cast(round(with_share.share_raw, 4) as numeric(7, 4)) as share_of_day
    from with_share

)

select * from final
