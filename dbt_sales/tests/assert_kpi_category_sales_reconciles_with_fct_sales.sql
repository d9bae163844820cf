-- Categories add up to fct_sales per day, and each day's shares sum to 1 (within rounding).
with

fct_sales as (

    select * from {{ ref('fct_sales') }}
    where sale_date in {{ reconcile_days() }} and not is_canceled

),

mart as (

    select * from {{ ref('kpi_category_sales') }}
    where sale_date in {{ reconcile_days() }}

),

expected as (

    select
        sale_date,
        product_category,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold,
        count(*) as transactions
    from fct_sales
    group by sale_date, product_category

),

mismatched_rows as (

    select
        coalesce(expected.sale_date, mart.sale_date) as sale_date,
        coalesce(expected.product_category, mart.product_category) as product_category,
        'row' as problem
    from expected
    full outer join mart
        on mart.sale_date = expected.sale_date
        and mart.product_category = expected.product_category
    where expected.sale_date is null
        or mart.sale_date is null
        or mart.total_sales <> expected.total_sales
        or mart.units_sold <> expected.units_sold
        or mart.transactions <> expected.transactions

),

bad_shares as (

    select
        sale_date,
        cast(null as text) as product_category,
        'share_of_day' as problem
    from mart
    group by sale_date
    having sum(total_sales) > 0
        and abs(sum(share_of_day) - 1) > 0.0001 * count(*)

),

final as (

    select * from mismatched_rows
    union all
    select * from bad_shares

)

select * from final
