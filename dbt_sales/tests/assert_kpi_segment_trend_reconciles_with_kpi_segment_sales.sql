-- Every (day, region, channel) row of kpi_segment_trend, "all" rows included, equals an
-- aggregate of kpi_segment_sales (itself reconciled with fct_sales; a week of fct_sales costs
-- seconds on a big warehouse), taken here without GROUPING SETS nor window functions, for the
-- days the last build touched and the 6 days after each (their averages include them); and every
-- region x channel choice has every day of kpi_sales_trend, no more.
{%- set all = all_segments() %}
with

trend as (

    select * from {{ ref('kpi_segment_trend') }}

),

touched as (

    select distinct sale_date
    from {{ ref('kpi_sales_trend') }}
    where {{ in_build_window('sale_date') }}

),

checked_days as (

    select distinct cast(touched.sale_date + ahead as date) as sale_date
    from touched
    cross join generate_series(0, 6) as ahead

),

window_days as (

    select distinct cast(checked_days.sale_date - back as date) as sale_date
    from checked_days
    cross join generate_series(0, 6) as back

),

fct as (

    select * from {{ ref('kpi_segment_sales') }}
    where sale_date in (select sale_date from window_days)

),

fct_segments as (

    select sale_date, sales_region, sales_channel,
        sum(total_sales) as total_sales, sum(transactions) as transactions,
        sum(units_sold) as units_sold
    from fct
    group by sale_date, sales_region, sales_channel
    union all
    select sale_date, sales_region, {{ all }},
        sum(total_sales), sum(transactions), sum(units_sold)
    from fct
    group by sale_date, sales_region
    union all
    select sale_date, {{ all }}, sales_channel,
        sum(total_sales), sum(transactions), sum(units_sold)
    from fct
    group by sale_date, sales_channel
    union all
    select sale_date, {{ all }}, {{ all }},
        sum(total_sales), sum(transactions), sum(units_sold)
    from fct
    group by sale_date

),

checked as (

    select * from trend
    where sale_date in (select sale_date from checked_days)

),

expected_average as (

    select
        checked.sale_date,
        checked.sales_region,
        checked.sales_channel,
        round(coalesce(sum(fct_segments.total_sales), 0) / 7, 2) as moving_avg_7d
    from checked
    cross join generate_series(0, 6) as back
    left join fct_segments
        on fct_segments.sale_date = checked.sale_date - back
        and fct_segments.sales_region = checked.sales_region
        and fct_segments.sales_channel = checked.sales_channel
    group by checked.sale_date, checked.sales_region, checked.sales_channel

),

mismatched_rows as (

    select
        coalesce(checked.sale_date, fct_segments.sale_date) as sale_date,
        coalesce(checked.sales_region, fct_segments.sales_region) as sales_region,
        coalesce(checked.sales_channel, fct_segments.sales_channel) as sales_channel,
        'row' as problem
    from checked
    full outer join (
        select * from fct_segments
        where sale_date in (select sale_date from checked_days)
    ) as fct_segments
        on fct_segments.sale_date = checked.sale_date
        and fct_segments.sales_region = checked.sales_region
        and fct_segments.sales_channel = checked.sales_channel
    left join expected_average
        on expected_average.sale_date = checked.sale_date
        and expected_average.sales_region = checked.sales_region
        and expected_average.sales_channel = checked.sales_channel
    where checked.sale_date is null
        or checked.total_sales is distinct from coalesce(fct_segments.total_sales, 0)
        or checked.transactions is distinct from coalesce(fct_segments.transactions, 0)
        or checked.units_sold is distinct from coalesce(fct_segments.units_sold, 0)
        or checked.avg_ticket is distinct from
            round(fct_segments.total_sales / nullif(fct_segments.transactions, 0), 2)
        or checked.has_sales is distinct from (fct_segments.sale_date is not null)
        or checked.moving_avg_7d is distinct from expected_average.moving_avg_7d

),

-- each choice has one row per calendar day, and every region goes with every channel
segments as (

    select sales_region, sales_channel, count(*) as days
    from trend
    group by sales_region, sales_channel

),

incomplete as (

    select
        cast(null as date) as sale_date,
        segments.sales_region,
        segments.sales_channel,
        'calendar' as problem
    from segments
    where segments.days <> (select count(*) from {{ ref('kpi_sales_trend') }})
        or (select count(*) from segments) <> (
            (select count(distinct sales_region) from segments)
            * (select count(distinct sales_channel) from segments))

),

final as (

    select * from mismatched_rows
    union all
    select * from incomplete

)

select * from final
