-- Every (day, region, channel, category) row, "all" rows included, equals an aggregate of
-- fct_sales taken here without GROUPING SETS, share of the segment's day included, for the
-- days of the build window (every day without one).
{%- set all = all_segments() %}
with

fct as (

    select * from {{ ref('fct_sales') }}
    where {{ in_build_window('sale_date') }}
        and not is_canceled

),

mart as (

    select * from {{ ref('kpi_segment_category_sales') }}
    where {{ in_build_window('sale_date') }}

),

fct_segments as (

    select sale_date, sales_region, sales_channel, product_category,
        sum(total_value) as total_sales, sum(quantity_sold) as units_sold,
        count(*) as transactions
    from fct
    group by sale_date, sales_region, sales_channel, product_category
    union all
    select sale_date, sales_region, {{ all }}, product_category,
        sum(total_value), sum(quantity_sold), count(*)
    from fct
    group by sale_date, sales_region, product_category
    union all
    select sale_date, {{ all }}, sales_channel, product_category,
        sum(total_value), sum(quantity_sold), count(*)
    from fct
    group by sale_date, sales_channel, product_category
    union all
    select sale_date, {{ all }}, {{ all }}, product_category,
        sum(total_value), sum(quantity_sold), count(*)
    from fct
    group by sale_date, product_category

),

segment_days as (

    select sale_date, sales_region, sales_channel, sum(total_sales) as total_sales
    from fct_segments
    group by sale_date, sales_region, sales_channel

),

expected as (

    select
        fct_segments.*,
        round(fct_segments.total_sales / nullif(segment_days.total_sales, 0), 4)
            as share_of_day
    from fct_segments
    inner join segment_days
        on segment_days.sale_date = fct_segments.sale_date
        and segment_days.sales_region = fct_segments.sales_region
        and segment_days.sales_channel = fct_segments.sales_channel

),

final as (

    select
        coalesce(expected.sale_date, mart.sale_date) as sale_date,
        coalesce(expected.sales_region, mart.sales_region) as sales_region,
        coalesce(expected.sales_channel, mart.sales_channel) as sales_channel,
        coalesce(expected.product_category, mart.product_category) as product_category
    from expected
    full outer join mart
        on mart.sale_date = expected.sale_date
        and mart.sales_region = expected.sales_region
        and mart.sales_channel = expected.sales_channel
        and mart.product_category = expected.product_category
    where expected.sale_date is null
        or mart.sale_date is null
        or mart.total_sales is distinct from expected.total_sales
        or mart.units_sold is distinct from expected.units_sold
        or mart.transactions is distinct from expected.transactions
        or mart.share_of_day is distinct from expected.share_of_day

)

select * from final
