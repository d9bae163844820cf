-- Categories add up to fct_sales per day, and each day's shares sum to 1 (within rounding).
with

mismatched_rows as (

    {{ reconcile_with_fct_sales(
        'kpi_category_sales',
        keys=['product_category'],
        measures={
            'total_sales': 'sum(total_value)',
            'units_sold': 'sum(quantity_sold)',
            'transactions': 'count(*)',
        },
    ) }}

),

bad_shares as (

    select
        sale_date,
        cast(null as text) as product_category,
        'share_of_day' as problem
    from {{ ref('kpi_category_sales') }}
    where {{ in_build_window('sale_date') }}
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
