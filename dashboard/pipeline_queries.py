"""The SQL of the Pipeline page: `marts.*` only (docs/marts.md), bound parameters only."""

from __future__ import annotations

# Files handled per UTC day and outcome, over the last :days days (today included).
FILES_BY_DAY = """
select
    cast(timezone('UTC', loaded_at) as date) as load_date,
    status,
    count(*) as files,
    coalesce(sum(rows_valid), 0) as rows_valid,
    coalesce(sum(rows_rejected), 0) as rows_rejected
from marts.dq_files
where cast(timezone('UTC', loaded_at) as date)
    >= cast(timezone('UTC', now()) as date) - (cast(:days as integer) - 1)
group by 1, 2
order by 1, 2
"""

# Totals over every file version ever handled.
FILE_TOTALS = """
select
    count(*) filter (where status = 'loaded') as files_loaded,
    count(*) filter (where status = 'rejected') as files_rejected,
    coalesce(sum(rows_rejected), 0) as rows_rejected
from marts.dq_files
"""

# Latest file versions that were rejected or had rejected rows, with every reason: the file's
# own reason when it was rejected whole, else "reason (rows)" for the rows refused on the day
# that version was loaded (a row refused for two reasons counts under both).
REJECTS_BY_FILE = """
with files as (
    select
        file_id,
        source_key,
        status,
        reason,
        rows_total,
        rows_rejected,
        loaded_at,
        cast(timezone('UTC', loaded_at) as date) as load_date
    from marts.dq_files
    where status <> 'loaded' or rows_rejected > 0
    order by loaded_at desc, file_id desc
    limit :limit
),

reasons as (
    select
        files.file_id,
        string_agg(
            rejected.reason || ' (' || rejected.rejected_rows || ')', '; '
            order by rejected.rejected_rows desc, rejected.reason
        ) as reasons
    from files
    inner join marts.dq_rejected_rows as rejected
        on rejected.source_key = files.source_key
        and rejected.load_date = files.load_date
    group by files.file_id
)

select
    files.source_key,
    files.status,
    files.loaded_at,
    files.rows_total,
    files.rows_rejected,
    coalesce(files.reason, reasons.reasons, '') as reasons
from files
left join reasons
    on reasons.file_id = files.file_id
order by files.loaded_at desc, files.file_id desc
"""

# Completed dbt builds, newest first.
DBT_RUNS = """
select
    built_at,
    files_new,
    duration_seconds
from marts.dbt_runs
order by built_at desc
limit :limit
"""
