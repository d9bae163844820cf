{#- Sales per day and category for every region x channel choice, share of the day included
    (grain: sale_date, sales_region, sales_channel, product_category; categories that sold
    only). Rows for "all regions" / "all channels" carry all_segments(); the all/all rows
    equal kpi_category_sales. A plain table rebuilt from kpi_segment_sales, which is small. -#}

with

segment_sales as (

    select * from {{ ref('kpi_segment_sales') }}

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

with_share as (

    select
        *,
        total_sales / nullif(
            sum(total_sales) over (partition by sale_date, sales_region, sales_channel), 0
        ) as share_raw
    from by_category

),

final as (

    select
        sale_date,
        sales_region,
        sales_channel,
        product_category,
        cast(total_sales as numeric(14, 2)) as total_sales,
        cast(units_sold as bigint) as units_sold,
        cast(transactions as bigint) as transactions,
        cast(round(share_raw, 4) as numeric(7, 4)) as share_of_day
    from with_share

)

select * from final
