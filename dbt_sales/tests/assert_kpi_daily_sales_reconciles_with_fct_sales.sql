-- Every day's KPIs equal an independent aggregate of fct_sales (canceled excluded).
{{ reconcile_with_fct_sales(
    'kpi_daily_sales',
    keys=[],
    measures={
        'total_sales': 'coalesce(sum(total_value) filter (where not is_canceled), 0)',
        'transactions': 'count(*) filter (where not is_canceled)',
        'units_sold': 'coalesce(sum(quantity_sold) filter (where not is_canceled), 0)',
        'gross_profit': 'coalesce(sum(gross_profit) filter (where not is_canceled), 0)',
        'canceled_sales': 'count(*) filter (where is_canceled)',
        'avg_ticket': 'round(coalesce(sum(total_value) filter (where not is_canceled), 0)'
                      ' / nullif(count(*) filter (where not is_canceled), 0), 2)',
    },
    active_only=false,
) }}
