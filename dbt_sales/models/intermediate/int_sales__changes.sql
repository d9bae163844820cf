{#- The change log the incremental marts consume: for each batch of newly seen files, every
    (sale_id, sale_date) whose resolution may have changed, plus one marker row
    (sale_id null) per batch so that the log's own watermark always advances.

    Affected sale_ids: every sale_id in a new file AND every sale_id in any other version of
    the same object key (a new version may drop a sale, or stop being/become the current
    one). Their dates: every sale_date any raw row of those sale_ids carries, in any file, a
    superset of the day each sale left and the day it lands on, so a restatement that moves
    a sale to another day refreshes both days.

    Cost is proportional to the new files (index lookups by file_id and sale_id), not to the
    history; a backfill that is a large share of raw.sales is joined in one scan instead
    (join_sale_rows). A first build / full refresh records every day, without sale_ids: the
    marts it feeds are built from scratch in the same run. Full-refresh it together with its children
    (`dbt build --full-refresh --select int_sales__changes+`). -#}

-- depends_on: {{ ref('stg_raw__sale_rows') }}

{#- Statistics at 2% growth, not the default 10%: the next models plan on how many changes
    are pending, and a stale estimate of one row sent a 1,000,000-row backfill into nested
    loops. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['batch_id']}],
        post_hook="{{ analyze_if_grown(0.02) }}",
    )
}}

with

pending_batches as (

    select * from {{ ref('int_file_batches') }}
    where batch_id > {{ batch_watermark('batch_id') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

this_batch as (

    select max(batch_id) as batch_id
    from pending_batches

),

{% if is_incremental() %}
{% set lookups = lookups_pay_off(batch_watermark('batch_id')) %}

new_keys as (

    select distinct files.source_key
    from pending_batches
    inner join files
        on files.file_id = pending_batches.file_id
    where files.is_loaded

),

touched_files as (

    select files.file_id
    from files
    inner join new_keys
        on new_keys.source_key = files.source_key
    where files.is_loaded

),

touched_sale_ids as (

    select distinct sale_rows.sale_id
    from touched_files
    {{ join_sale_rows('_file_id', 'touched_files.file_id', lookups) }}

),

changes as (

    select distinct
        sale_rows.sale_id,
        sale_rows.sale_date
    from touched_sale_ids
    {{ join_sale_rows('sale_id', 'touched_sale_ids.sale_id', lookups) }}

),

{% else %}

{#- First build or full refresh: every mart is built from scratch in this run; the days are
    recorded (without sale_ids) so the reconciliation tests check all of them. #}
changes as (

    select distinct
        cast(null as text) as sale_id,
        sale_rows.sale_date
    from {{ ref('stg_raw__sale_rows') }} as sale_rows

),

{% endif %}

change_rows as (

    select
        this_batch.batch_id,
        changes.sale_id,
        changes.sale_date
    from changes
    cross join this_batch

),

marker as (

    select
        this_batch.batch_id,
        cast(null as text) as sale_id,
        cast(null as date) as sale_date
    from this_batch
    where this_batch.batch_id is not null

),

final as (

    select * from change_rows
    union all
    select * from marker

)

select * from final
