{{ kpi_incremental_config() }}

with

{{ kpi_inputs() }}

by_product_segment as (

    select
        sale_date,
        sales_region,
        sales_channel,
        product_id,
        max(product_name) as product_name,
        max(product_category) as product_category,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold
    from counted_sales
    group by sale_date, sales_region, sales_channel, product_id

),

final as (

    select
        by_product_segment.sale_date,
        by_product_segment.sales_region,
        by_product_segment.sales_channel,
        by_product_segment.product_id,
        by_product_segment.product_name,
        by_product_segment.product_category,
        cast(by_product_segment.total_sales as numeric(14, 2)) as total_sales,
        cast(by_product_segment.units_sold as bigint) as units_sold,
        fct_watermark.batch_id as _batch_id
    from by_product_segment
    cross join fct_watermark

)

select * from final
