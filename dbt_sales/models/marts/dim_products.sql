{#- One row per product with at least one sale, i.e. per product_name (see the
    product_identity doc block): id and category of its most recent sale (by sale_date, then
    sale_id). Incremental by product: with a build window, each build recomputes the products the
    window's changed sales carry (in any file: the product a sale left and the one it joined),
    each with one probe of fct_sales' (product_name, sale_date, sale_id) index, and gives the
    same rows as a full refresh. -#}

-- depends_on: {{ ref('stg_raw__sale_rows') }}
-- depends_on: {{ ref('stg_raw__files') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_build_window('product_name', changed_products()) }}",
    )
}}

with

products as (

    {% if is_incremental() and build_window() is not none -%}
    select distinct product_name
    from ({{ changed_products() }}) as changed
    {%- else -%}
    select distinct product_name
    from {{ ref('fct_sales') }}
    {%- endif %}

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
        latest_sale.product_category
    from latest_sale

)

select * from final
