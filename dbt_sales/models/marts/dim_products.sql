{#- One row per product, i.e. per product_name (see the product_identity doc block): id and
    category from its most recent sale (by sale_date, then sale_id) among the sales written
    since the last build, merged by name. A product whose every sale later disappears stays
    listed (a dimension keeps its members). -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='product_name',
        on_schema_change='append_new_columns',
    )
}}

with

new_sales as (

    select * from {{ ref('fct_sales') }}
    where _batch_id > {{ batch_watermark() }}

),

ranked as (

    select
        product_name,
        product_id,
        product_category,
        _batch_id,
        row_number() over (
            partition by product_name
            order by sale_date desc, sale_id desc
        ) as recency_rank
    from new_sales

),

final as (

    select
        product_name,
        product_id,
        product_category,
        _batch_id
    from ranked
    where recency_rank = 1

)

select * from final
