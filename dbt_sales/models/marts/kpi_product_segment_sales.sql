{#- Grain: sale_date x region x channel x product_name; products as in kpi_product_sales. -#}

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

by_product_segment as (

    select
        sale_date,
        sales_region,
        sales_channel,
        product_name,
        min({{ code_point_order('product_id') }}) as product_id,
        count(distinct product_id) as product_id_count,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold
    from counted_sales
    group by sale_date, sales_region, sales_channel, product_name

),

categories as (

    {{ most_frequent(
        'counted_sales',
        ['sale_date', 'sales_region', 'sales_channel', 'product_name'],
        'product_category',
    ) }}

),

final as (

    select
        by_product_segment.sale_date,
        by_product_segment.sales_region,
        by_product_segment.sales_channel,
        by_product_segment.product_name,
        by_product_segment.product_id,
        cast(by_product_segment.product_id_count as integer) as product_id_count,
        categories.product_category,
        cast(by_product_segment.total_sales as numeric(14, 2)) as total_sales,
        cast(by_product_segment.units_sold as bigint) as units_sold
    from by_product_segment
    inner join categories
        on categories.sale_date = by_product_segment.sale_date
        and categories.sales_region = by_product_segment.sales_region
        and categories.sales_channel = by_product_segment.sales_channel
        and categories.product_name = by_product_segment.product_name

)

select * from final
