{#- Which product ids carried which product names, per day (all sales, canceled included:
    this is about what the files say, not what counts). Day-incremental like the kpi_* marts,
    so dq_product_identity stays exact through restatements and new object versions without
    reading all of fct_sales on every build. -#}

{{ kpi_incremental_config() }}

with

{{ kpi_inputs(counted=false) }}

pairs as (

    select
        sale_date,
        product_id,
        product_name,
        count(*) as sales
    from sales
    group by sale_date, product_id, product_name

),

final as (

    select
        pairs.sale_date,
        pairs.product_id,
        pairs.product_name,
        cast(pairs.sales as bigint) as sales,
        fct_watermark.batch_id as _batch_id
    from pairs
    cross join fct_watermark

)

select * from final
