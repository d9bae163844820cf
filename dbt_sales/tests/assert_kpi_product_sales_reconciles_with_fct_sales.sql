-- Products add up to fct_sales per day; rank 1 is the day's highest units_sold.
with

fct_sales as (

    select * from {{ ref('fct_sales') }}
    where sale_date in {{ reconcile_days() }} and not is_canceled

),

mart as (

    select * from {{ ref('kpi_product_sales') }}
    where sale_date in {{ reconcile_days() }}

),

expected as (

    select
        sale_date,
        product_id,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold
    from fct_sales
    group by sale_date, product_id

),

mismatched_rows as (

    select
        coalesce(expected.sale_date, mart.sale_date) as sale_date,
        coalesce(expected.product_id, mart.product_id) as product_id,
        'row' as problem
    from expected
    full outer join mart
        on mart.sale_date = expected.sale_date
        and mart.product_id = expected.product_id
    where expected.sale_date is null
        or mart.sale_date is null
        or mart.total_sales <> expected.total_sales
        or mart.units_sold <> expected.units_sold

),

bad_ranks as (

    select
        sale_date,
        cast(null as text) as product_id,
        'units_rank' as problem
    from mart
    group by sale_date
    having max(units_sold) <> max(units_sold) filter (where units_rank = 1)

),

final as (

    select * from mismatched_rows
    union all
    select * from bad_ranks

)

select * from final
