{#- A plain table: it reads kpi_daily_sales (one row per day), so rebuilding it is cheap.
    Every calendar day from the first to the last day of kpi_daily_sales has a row, so a
    reader picks a day by key and never has to fill gaps or re-derive the average. -#}

with

daily as (

    select * from {{ ref('kpi_daily_sales') }}

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
    cross join {{ day_series('bounds.first_day', 'bounds.last_day') }} as day

),

series as (

    select
        calendar.sale_date,
        coalesce(daily.total_sales, 0) as total_sales,
        coalesce(daily.transactions, 0) as transactions,
        -- over 7 calendar days whatever the data: days before the first sale count as 0 too
        sum(coalesce(daily.total_sales, 0)) over (
            order by calendar.sale_date
            rows between 6 preceding and current row
        ) / 7.0 as moving_avg_raw
    from calendar
    left join daily
        on daily.sale_date = calendar.sale_date

),

final as (

    select
        sale_date,
        cast(total_sales as numeric(14, 2)) as total_sales,
        cast(transactions as bigint) as transactions,
        cast(round(moving_avg_raw, 2) as numeric(14, 2)) as moving_avg_7d,
        transactions > 0 as has_sales
    from series

)

select * from final
