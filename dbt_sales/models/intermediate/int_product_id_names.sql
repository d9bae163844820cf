{#- Which product ids carried which product names, per day (all sales, canceled included:
    this is about what the files say, not what counts). Day-incremental like the kpi_* marts,
    so dq_product_identity stays exact through restatements and new object versions without
    reading all of fct_sales on every build. -#}

-- Incremental by day: each build recomputes the build window's days (macros/build_window.sql).

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_build_window() }}",
        indexes=[{'columns': ['sale_date']}],
    )
}}

with

sales as (

    select * from {{ ref('fct_sales') }}
    {%- if is_incremental() %}
    where {{ in_build_window('sale_date') }}
    {%- endif %}

),

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
        cast(pairs.sales as bigint) as sales
    from pairs

)

select * from final
