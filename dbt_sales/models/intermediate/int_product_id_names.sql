{#- Which product ids carried which product names, per day (all sales, canceled included:
    this is about what the files say, not what counts). Day-incremental like the kpi_* marts,
    so dq_product_identity stays exact through restatements and new object versions without
    reading all of fct_sales on every build. -#}

-- Incremental by day: on each build, only the days whose sales changed (days_to_rebuild).
-- depends_on: {{ ref('int_sales__changes') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='sale_date',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_days_to_rebuild() }}",
        indexes=[{'columns': ['sale_date']}],
    )
}}

with

sales as (

    select * from {{ ref('fct_sales') }}
    {%- if is_incremental() %}
    where sale_date in {{ days_to_rebuild() }}
    {%- endif %}

),

fct_watermark as (

    select max(_batch_id) as batch_id
    from {{ ref('fct_sales') }}

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
        cast(pairs.sales as bigint) as sales,
        fct_watermark.batch_id as _batch_id
    from pairs
    cross join fct_watermark

)

select * from final
