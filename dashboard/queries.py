"""The SQL the dashboard runs: `marts.*` only (docs/marts.md), bound parameters only.

Every ratio and average shown is a mart column: the page picks rows by key (day, region,
channel) and only sums additive measures (units, sales) over the chosen window. A region and a
channel filter are one value each; `ALL` is the segment marts' key for "all regions" / "all
channels", so the unfiltered page reads the same rows as a filtered one.
"""

from __future__ import annotations

# The segment marts' sales_region / sales_channel for "all" (dbt macro all_segments()).
ALL = ""

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

# Filter choices for the sidebar: every region x channel choice has a row on every day.
SEGMENTS = """
select
    sales_region,
    sales_channel
from marts.kpi_segment_trend
where sale_date = (select max(sale_date) from marts.kpi_segment_trend)
order by sales_region, sales_channel
"""

# :start .. :end, one row per calendar day the marts cover (first to last day with sales).
DAILY = """
select
    sale_date,
    total_sales,
    transactions,
    avg_ticket,
    units_sold,
    moving_avg_7d,
    has_sales
from marts.kpi_segment_trend
where sales_region = :region
    and sales_channel = :channel
    and sale_date between :start and :end
order by sale_date
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
from marts.kpi_segment_category_sales
where sales_region = :region
    and sales_channel = :channel
    and sale_date in (:day, :prev_day)
order by sale_date, total_sales desc, product_category
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

# Summing units over the window is additive; with a region or a channel of ALL, that side is
# not filtered (the product segment mart has real segments only).
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
    and (cast(:region as text) = '' or sales_region = :region)
    and (cast(:channel as text) = '' or sales_channel = :channel)
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
