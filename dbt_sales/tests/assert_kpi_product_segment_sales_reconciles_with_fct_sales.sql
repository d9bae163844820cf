-- Product segments (region x channel x product) add up to fct_sales per day.
{{ reconcile_with_fct_sales(
    'kpi_product_segment_sales',
    keys=['sales_region', 'sales_channel', 'product_name'],
    measures={
        'total_sales': 'sum(total_value)',
        'units_sold': 'sum(quantity_sold)',
        'product_id_count': 'count(distinct product_id)',
    },
) }}
