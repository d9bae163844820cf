-- Every day's KPIs equal an independent aggregate of fct_sales (canceled excluded).
with

fct_sales as (

    select * from {{ ref('fct_sales') }}
    where sale_date in {{ reconcile_days() }}

),

mart as (

    select * from {{ ref('kpi_daily_sales') }}
    where sale_date in {{ reconcile_days() }}

),

expected as (

    select
        sale_date,
        coalesce(sum(total_value) filter (where not is_canceled), 0) as total_sales,
        count(*) filter (where not is_canceled) as transactions,
        coalesce(sum(quantity_sold) filter (where not is_canceled), 0) as units_sold,
        coalesce(sum(gross_profit) filter (where not is_canceled), 0) as gross_profit,
        count(*) filter (where is_canceled) as canceled_sales
    from fct_sales
    group by sale_date

),

final as (

    select
        coalesce(expected.sale_date, mart.sale_date) as sale_date,
        expected.total_sales as expected_total_sales,
        mart.total_sales as mart_total_sales
    from expected
    full outer join mart
        on mart.sale_date = expected.sale_date
    where expected.sale_date is null
        or mart.sale_date is null
        or mart.total_sales <> expected.total_sales
        or mart.transactions <> expected.transactions
        or mart.units_sold <> expected.units_sold
        or mart.gross_profit <> expected.gross_profit
        or mart.canceled_sales <> expected.canceled_sales
        or mart.avg_ticket is distinct from round(expected.total_sales / nullif(expected.transactions, 0), 2)

)

select * from final
