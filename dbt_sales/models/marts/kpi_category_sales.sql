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
        cast(round(with_share.share_raw, 4) as numeric(7, 4)) as share_of_day
    from with_share

)

select * from final
