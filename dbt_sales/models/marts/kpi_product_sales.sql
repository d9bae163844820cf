{{ kpi_incremental_config() }}

with

{{ kpi_inputs() }}

by_product as (

    select
        sale_date,
        product_id,
        max(product_name) as product_name,
        max(product_category) as product_category,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold
    from counted_sales
    group by sale_date, product_id

),

ranked as (

    select
        *,
        dense_rank() over (partition by sale_date order by units_sold desc) as units_rank
    from by_product

),

final as (

    select
        ranked.sale_date,
        ranked.product_id,
        ranked.product_name,
        ranked.product_category,
        cast(ranked.total_sales as numeric(14, 2)) as total_sales,
        cast(ranked.units_sold as bigint) as units_sold,
        cast(ranked.units_rank as integer) as units_rank,
        fct_watermark.batch_id as _batch_id
    from ranked
    cross join fct_watermark

)

select * from final
