"""The SQL the dashboard runs: `marts.*` only (docs/marts.md), bound parameters only.

Unfiltered views read the pre-aggregated day marts. With a region or channel filter the same
numbers come from the segment marts; `regions` / `channels` are text arrays, NULL meaning
"all". Average ticket there is total / transactions rounded to cents, and the 7-day moving
average runs over a calendar spine so that missing days count as 0, as in `kpi_sales_trend`.
"""

from __future__ import annotations

# Newest and oldest sale day with data: drives the default day and the "waiting" state.
DAY_BOUNDS = """
select
    min(sale_date) as first_day,
    max(sale_date) as last_day
from marts.kpi_daily_sales
"""

FRESHNESS = """
select
    last_file_loaded_at,
    marts_built_at,
    files_pending_dbt,
    is_dbt_behind
from marts.pipeline_freshness
"""

# Filter choices for the sidebar.
SEGMENTS = """
select distinct
    sales_region,
    sales_channel
from marts.kpi_segment_sales
order by sales_region, sales_channel
"""

# :start .. :end calendar days (the window plus the day before it, for the change).
DAILY = """
with days as (
    select cast(d as date) as sale_date
    from generate_series(cast(:start as date), cast(:end as date), interval '1 day') as d
),

final as (
    select
        days.sale_date,
        coalesce(daily.total_sales, 0) as total_sales,
        coalesce(daily.transactions, 0) as transactions,
        daily.avg_ticket,
        coalesce(daily.units_sold, 0) as units_sold,
        trend.moving_avg_7d,
        daily.sale_date is not null as has_sales
    from days
    left join marts.kpi_daily_sales as daily
        on daily.sale_date = days.sale_date
    left join marts.kpi_sales_trend as trend
        on trend.sale_date = days.sale_date
)

select * from final order by sale_date
"""

# Same columns as DAILY; :ma_start is 6 days before :start so the first average is complete.
DAILY_SEGMENT = """
with days as (
    select cast(d as date) as sale_date
    from generate_series(cast(:ma_start as date), cast(:end as date), interval '1 day') as d
),

segment as (
    select
        sale_date,
        sum(total_sales) as total_sales,
        sum(transactions) as transactions,
        sum(units_sold) as units_sold
    from marts.kpi_segment_sales
    where sale_date between :ma_start and :end
        and (cast(:regions as text[]) is null or sales_region = any(cast(:regions as text[])))
        and (cast(:channels as text[]) is null or sales_channel = any(cast(:channels as text[])))
    group by sale_date
),

series as (
    select
        days.sale_date,
        coalesce(segment.total_sales, 0) as total_sales,
        coalesce(segment.transactions, 0) as transactions,
        round(segment.total_sales / nullif(segment.transactions, 0), 2) as avg_ticket,
        coalesce(segment.units_sold, 0) as units_sold,
        round(
            avg(coalesce(segment.total_sales, 0)) over (
                order by days.sale_date rows between 6 preceding and current row
            ),
            2
        ) as moving_avg_7d,
        segment.sale_date is not null as has_sales
    from days
    left join segment
        on segment.sale_date = days.sale_date
),

final as (
    select * from series where sale_date >= :start
)

select * from final order by sale_date
"""

# The selected day and the day before, per category.
CATEGORIES = """
select
    sale_date,
    product_category,
    total_sales,
    units_sold,
    transactions,
    share_of_day
from marts.kpi_category_sales
where sale_date in (:day, :prev_day)
order by sale_date, total_sales desc, product_category
"""

CATEGORIES_SEGMENT = """
with segment as (
    select
        sale_date,
        product_category,
        sum(total_sales) as total_sales,
        sum(units_sold) as units_sold,
        sum(transactions) as transactions
    from marts.kpi_segment_sales
    where sale_date in (:day, :prev_day)
        and (cast(:regions as text[]) is null or sales_region = any(cast(:regions as text[])))
        and (cast(:channels as text[]) is null or sales_channel = any(cast(:channels as text[])))
    group by sale_date, product_category
),

final as (
    select
        *,
        round(total_sales / nullif(sum(total_sales) over (partition by sale_date), 0), 4)
            as share_of_day
    from segment
)

select * from final order by sale_date, total_sales desc, product_category
"""

# Top products by units over :start .. :day, with revenue and the units of the day and the day
# before (the window is at least 7 days, so the day before is inside it). A product is its
# name (the marts' product identity rule): ids may differ per row and per day, so they are not
# grouped on; the category shown is the one most of its days carry.
TOP_PRODUCTS = """
select
    product_name,
    mode() within group (order by product_category) as product_category,
    sum(units_sold) as units_sold,
    sum(total_sales) as total_sales,
    coalesce(sum(units_sold) filter (where sale_date = :day), 0) as units_day,
    coalesce(sum(units_sold) filter (where sale_date = :prev_day), 0) as units_prev_day
from marts.kpi_product_sales
where sale_date between :start and :day
group by product_name
order by units_sold desc, total_sales desc, product_name
limit :limit
"""

TOP_PRODUCTS_SEGMENT = """
select
    product_name,
    mode() within group (order by product_category) as product_category,
    sum(units_sold) as units_sold,
    sum(total_sales) as total_sales,
    coalesce(sum(units_sold) filter (where sale_date = :day), 0) as units_day,
    coalesce(sum(units_sold) filter (where sale_date = :prev_day), 0) as units_prev_day
from marts.kpi_product_segment_sales
where sale_date between :start and :day
    and (cast(:regions as text[]) is null or sales_region = any(cast(:regions as text[])))
    and (cast(:channels as text[]) is null or sales_channel = any(cast(:channels as text[])))
group by product_name
order by units_sold desc, total_sales desc, product_name
limit :limit
"""

REJECTED_BY_REASON = """
select
    reason,
    sum(rejected_rows) as rejected_rows,
    count(distinct source_key) as files
from marts.dq_rejected_rows
group by reason
order by rejected_rows desc, reason
"""

PROBLEM_FILES = """
select
    file_id,
    source_key,
    status,
    reason,
    rows_total,
    rows_valid,
    rows_rejected,
    loaded_at
from marts.dq_files
where status <> 'loaded' or rows_rejected > 0
order by loaded_at desc, file_id desc
limit :limit
"""

# One row: product ids with several names, product names with several ids (all current sales).
PRODUCT_IDENTITY = """
select
    product_names,
    product_ids,
    ids_with_several_names,
    names_with_several_ids
from marts.dq_product_identity
"""
