{#- Every row of raw.sales, renamed and typed once, history included (all object versions,
    every restatement). A plain projection, so a filter on `_file_id` or `sale_id` reaches the
    raw indexes: the incremental marts read their few affected rows through it. -#}

with

source as (

    select * from {{ source('raw', 'sales') }}

),

renamed as (

    select
        sale_id,
        sale_date,
        product_id,
        {{ normalize_product_name('product_name') }} as product_name,
        product_category,
        quantity_sold,
        cast(unit_price as numeric(14, 2)) as unit_price,
        cast(discount as numeric(9, 4)) as discount_pct,
        cast(total_value as numeric(14, 2)) as total_value,
        cast(unit_cost as numeric(14, 2)) as unit_cost,
        cast(total_cost as numeric(14, 2)) as total_cost,
        cast(gross_profit as numeric(14, 2)) as gross_profit,
        payment_method,
        payment_status,
        payment_date,
        payment_status = 'Canceled' as is_canceled,
        customer_id,
        customer_name,
        sales_channel,
        sales_region,
        sales_rep,
        {{ rating_to_int('customer_rating') }} as customer_rating,
        cast(shipping_cost as numeric(14, 2)) as shipping_cost,
        delivery_status,
        delivery_date,
        file_id as _file_id,
        row_number as _row_number

    from source

),

final as (

    select * from renamed

)

select * from final
