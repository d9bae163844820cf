-- Segments (region x channel x category) add up to fct_sales per day.
with

fct_sales as (

    select * from {{ ref('fct_sales') }}
    where sale_date in {{ reconcile_days() }} and not is_canceled

),

mart as (

    select * from {{ ref('kpi_segment_sales') }}
    where sale_date in {{ reconcile_days() }}

),

expected as (

    select
        sale_date,
        sales_region,
        sales_channel,
        product_category,
        sum(total_value) as total_sales,
        count(*) as transactions,
        sum(quantity_sold) as units_sold,
        sum(gross_profit) as gross_profit
    from fct_sales
    group by sale_date, sales_region, sales_channel, product_category

),

final as (

    select
        coalesce(expected.sale_date, mart.sale_date) as sale_date,
        coalesce(expected.sales_region, mart.sales_region) as sales_region,
        coalesce(expected.sales_channel, mart.sales_channel) as sales_channel,
        coalesce(expected.product_category, mart.product_category) as product_category
    from expected
    full outer join mart
        on mart.sale_date = expected.sale_date
        and mart.sales_region = expected.sales_region
        and mart.sales_channel = expected.sales_channel
        and mart.product_category = expected.product_category
    where expected.sale_date is null
        or mart.sale_date is null
        or mart.total_sales <> expected.total_sales
        or mart.transactions <> expected.transactions
        or mart.units_sold <> expected.units_sold
        or mart.gross_profit <> expected.gross_profit

)

select * from final
