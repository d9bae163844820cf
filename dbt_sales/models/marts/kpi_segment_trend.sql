{#- Daily KPIs per region x channel choice, ratios included, for every calendar day of
    kpi_sales_trend: a reader picks one (sale_date, sales_region, sales_channel) key and never
    re-derives an average. Rows for "all regions" / "all channels" carry all_segments().

    A plain table rebuilt from kpi_segment_sales (days x segments x categories) on every
    build: its size grows with days, not sales (two years of daily files: 115,000 rows in,
    22,000 out). The moving average reads the days before each day, so an incremental build
    would have to rebuild a week after every changed day. -#}

with

segment_sales as (

    select * from {{ ref('kpi_segment_sales') }}

),

calendar as (

    select sale_date from {{ ref('kpi_sales_trend') }}

),

by_segment as (

    select
        sale_date,
        case when grouping(sales_region) = 1 then {{ all_segments() }} else sales_region end
            as sales_region,
        case when grouping(sales_channel) = 1 then {{ all_segments() }} else sales_channel end
            as sales_channel,
        sum(total_sales) as total_sales,
        sum(transactions) as transactions,
        sum(units_sold) as units_sold
    from segment_sales
    group by grouping sets (
        (sale_date, sales_region, sales_channel),
        (sale_date, sales_region),
        (sale_date, sales_channel),
        (sale_date)
    )

),

-- from the grouped rows, not another pass over kpi_segment_sales; "all" even before a sale
regions as (

    select sales_region from by_segment
    union
    select {{ all_segments() }}

),

channels as (

    select sales_channel from by_segment
    union
    select {{ all_segments() }}

),

-- Every choice the dashboard offers, also pairs that never sold together: they read zeros.
segments as (

    select
        regions.sales_region,
        channels.sales_channel
    from regions
    cross join channels

),

series as (

    select
        calendar.sale_date,
        segments.sales_region,
        segments.sales_channel,
        coalesce(by_segment.total_sales, 0) as total_sales,
        coalesce(by_segment.transactions, 0) as transactions,
        coalesce(by_segment.units_sold, 0) as units_sold,
        -- as in kpi_sales_trend: 7 calendar days, days without sales count as 0
        sum(coalesce(by_segment.total_sales, 0)) over (
            partition by segments.sales_region, segments.sales_channel
            order by calendar.sale_date
            rows between 6 preceding and current row
        ) / 7.0 as moving_avg_raw
    from calendar
    cross join segments
    left join by_segment
        on by_segment.sale_date = calendar.sale_date
        and by_segment.sales_region = segments.sales_region
        and by_segment.sales_channel = segments.sales_channel

),

final as (

    select
        sale_date,
        sales_region,
        sales_channel,
        cast(total_sales as numeric(14, 2)) as total_sales,
        cast(transactions as bigint) as transactions,
        cast(round(total_sales / nullif(transactions, 0), 2) as numeric(14, 2)) as avg_ticket,
        cast(units_sold as bigint) as units_sold,
        cast(round(moving_avg_raw, 2) as numeric(14, 2)) as moving_avg_7d,
        transactions > 0 as has_sales
    from series

)

select * from final
