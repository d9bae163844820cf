-- The trend has every calendar day from the first to the last day of kpi_daily_sales: the
-- same totals on those days, zeros and has_sales false on the others, and a 7-day average
-- recomputed here by day offsets (not by a window) from kpi_daily_sales (all days: both small).
with

daily as (

    select * from {{ ref('kpi_daily_sales') }}

),

trend as (

    select * from {{ ref('kpi_sales_trend') }}

),

bounds as (

    select
        min(sale_date) as first_day,
        max(sale_date) as last_day
    from daily

),

calendar as (

    select cast(day as date) as sale_date
    from bounds
    cross join generate_series(bounds.first_day, bounds.last_day, interval '1 day') as day

),

expected_average as (

    select
        calendar.sale_date,
        round(coalesce(sum(daily.total_sales), 0) / 7, 2) as moving_avg_7d
    from calendar
    cross join generate_series(0, 6) as back
    left join daily
        on daily.sale_date = calendar.sale_date - back
    group by calendar.sale_date

),

expected as (

    select
        calendar.sale_date,
        coalesce(daily.total_sales, 0) as total_sales,
        coalesce(daily.transactions, 0) as transactions,
        coalesce(daily.transactions, 0) > 0 as has_sales,
        expected_average.moving_avg_7d
    from calendar
    left join daily
        on daily.sale_date = calendar.sale_date
    inner join expected_average
        on expected_average.sale_date = calendar.sale_date

),

final as (

    select
        coalesce(expected.sale_date, trend.sale_date) as sale_date
    from expected
    full outer join trend
        on trend.sale_date = expected.sale_date
    where expected.sale_date is null
        or trend.sale_date is null
        or trend.total_sales is distinct from expected.total_sales
        or trend.transactions is distinct from expected.transactions
        or trend.has_sales is distinct from expected.has_sales
        or trend.moving_avg_7d is distinct from expected.moving_avg_7d

)

select * from final
