{#- One row per product with at least one sale, i.e. per product_name (see the
    product_identity doc block): id and category of its most recent sale (by sale_date, then
    sale_id). Incremental by product: each build recomputes the products its changes touch,
    each with one probe of fct_sales' (product_name, sale_date, sale_id) index, and gives the
    same rows as a full refresh. -#}

-- depends_on: {{ ref('int_sales__changes') }}
-- depends_on: {{ ref('stg_raw__sale_rows') }}
-- depends_on: {{ ref('int_file_batches') }}
-- depends_on: {{ ref('stg_raw__files') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='product_name',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_changed_products() }}",
    )
}}

with

products as (

    {% if is_incremental() -%}
    select distinct product_name
    from ({{ changed_products() }}) as changed
    {%- else -%}
    select distinct product_name
    from {{ ref('fct_sales') }}
    {%- endif %}

),

fct_watermark as (

    select max(_batch_id) as batch_id
    from {{ ref('fct_sales') }}

),

latest_sale as (

    select
        products.product_name,
        latest.product_id,
        latest.product_category
    from products
    cross join lateral (
        select
            sales.product_id,
            sales.product_category
        from {{ ref('fct_sales') }} as sales
        where sales.product_name = products.product_name
        order by sales.sale_date desc, sales.sale_id desc
        limit 1
    ) as latest

),

final as (

    select
        latest_sale.product_name,
        latest_sale.product_id,
        latest_sale.product_category,
        fct_watermark.batch_id as _batch_id
    from latest_sale
    cross join fct_watermark

)

select * from final
