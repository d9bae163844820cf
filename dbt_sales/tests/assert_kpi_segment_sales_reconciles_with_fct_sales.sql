-- Segments (region x channel x category) add up to fct_sales per day.
{{ reconcile_with_fct_sales(
    'kpi_segment_sales',
    keys=['sales_region', 'sales_channel', 'product_category'],
    measures={
        'total_sales': 'sum(total_value)',
        'transactions': 'count(*)',
        'units_sold': 'sum(quantity_sold)',
        'gross_profit': 'sum(gross_profit)',
    },
) }}
