-- Products add up to fct_sales per day; rank 1 is the day's highest units_sold.
with

mismatched_rows as (

    {{ reconcile_with_fct_sales(
        'kpi_product_sales',
        keys=['product_name'],
        measures={
            'total_sales': 'sum(total_value)',
            'units_sold': 'sum(quantity_sold)',
            'product_id_count': 'count(distinct product_id)',
        },
    ) }}

),

bad_ranks as (

    select
        sale_date,
        cast(null as text) as product_name,
        'units_rank' as problem
    from {{ ref('kpi_product_sales') }}
    where {{ in_build_window('sale_date') }}
    group by sale_date
    having max(units_sold) <> max(units_sold) filter (where units_rank = 1)

),

final as (

    select * from mismatched_rows
    union all
    select * from bad_ranks

)

select * from final
