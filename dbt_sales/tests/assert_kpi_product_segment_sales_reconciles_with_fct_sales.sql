-- Product segments (region x channel x product) add up to fct_sales per day.
with

fct_sales as (

    select * from {{ ref('fct_sales') }}
    where sale_date in {{ reconcile_days() }} and not is_canceled

),

mart as (

    select * from {{ ref('kpi_product_segment_sales') }}
    where sale_date in {{ reconcile_days() }}

),

expected as (

    select
        sale_date,
        sales_region,
        sales_channel,
        product_id,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold
    from fct_sales
    group by sale_date, sales_region, sales_channel, product_id

),

final as (

    select
        coalesce(expected.sale_date, mart.sale_date) as sale_date,
        coalesce(expected.sales_region, mart.sales_region) as sales_region,
        coalesce(expected.sales_channel, mart.sales_channel) as sales_channel,
        coalesce(expected.product_id, mart.product_id) as product_id
    from expected
    full outer join mart
        on mart.sale_date = expected.sale_date
        and mart.sales_region = expected.sales_region
        and mart.sales_channel = expected.sales_channel
        and mart.product_id = expected.product_id
    where expected.sale_date is null
        or mart.sale_date is null
        or mart.total_sales <> expected.total_sales
        or mart.units_sold <> expected.units_sold

)

select * from final
