{#- One row per sale_id: rows of the current version of each object key only (a new version
    replaces the old one, sales it dropped disappear), then the latest loaded row of each
    sale wins (restatement). Reads all history: fine for analysis and full refreshes;
    fct_sales applies the same resolution incrementally to the affected sale_ids only. -#}

with

sale_rows as (

    select * from {{ ref('stg_raw__sale_rows') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

current_rows as (

    select
        sale_rows.*,
        files.source_key as _source_key,
        files.loaded_at as _loaded_at

    from sale_rows
    inner join files
        on files.file_id = sale_rows._file_id
    where files.is_current_version

),

ranked as (

    {{ latest_sale_version('current_rows') }}

),

final as (

    select
        sale_id,
        sale_date,
        product_id,
        product_name,
        product_category,
        quantity_sold,
        unit_price,
        discount_pct,
        total_value,
        unit_cost,
        total_cost,
        gross_profit,
        payment_method,
        payment_status,
        payment_date,
        is_canceled,
        customer_id,
        customer_name,
        sales_channel,
        sales_region,
        sales_rep,
        customer_rating,
        shipping_cost,
        delivery_status,
        delivery_date,
        _file_id,
        _row_number,
        _source_key,
        _loaded_at

    from ranked
    where _version_rank = 1

)

select * from final
