{#- Grain: sale_date x product_name (see the product_identity doc block): a product is what
    managers call it, so ids and categories, which some files draw per row, are attributes. -#}

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

by_product as (

    select
        sale_date,
        product_name,
        min({{ code_point_order('product_id') }}) as product_id,
        count(distinct product_id) as product_id_count,
        sum(total_value) as total_sales,
        sum(quantity_sold) as units_sold
    from counted_sales
    group by sale_date, product_name

),

categories as (

    {{ most_frequent('counted_sales', ['sale_date', 'product_name'], 'product_category') }}

),

ranked as (

    select
        *,
        dense_rank() over (partition by sale_date order by units_sold desc) as units_rank
    from by_product

),

final as (

    select
        ranked.sale_date,
        ranked.product_name,
        ranked.product_id,
        cast(ranked.product_id_count as integer) as product_id_count,
        categories.product_category,
        cast(ranked.total_sales as numeric(14, 2)) as total_sales,
        cast(ranked.units_sold as bigint) as units_sold,
        cast(ranked.units_rank as integer) as units_rank
    from ranked
    inner join categories
        on categories.sale_date = ranked.sale_date
        and categories.product_name = ranked.product_name

)

select * from final
