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

counted_sales as (

    select * from sales
    where not is_canceled

),

by_category as (

    select
        sale_date,
        product_category,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold,
        count(*) as transactions
    from counted_sales
    group by sale_date, product_category

),

with_share as (

    select
        *,
        total_sales / nullif(sum(total_sales) over (partition by sale_date), 0) as share_raw
    from by_category

),

final as (

    select
        with_share.sale_date,
        with_share.product_category,
        cast(with_share.total_sales as numeric(14, 2)) as total_sales,
        cast(with_share.units_sold as bigint) as units_sold,
        cast(with_share.transactions as bigint) as transactions,
        cast(round(with_share.share_raw, 4) as numeric(7, 4)) as share_of_day,
        fct_watermark.batch_id as _batch_id
    from with_share
    cross join fct_watermark

)

select * from final
