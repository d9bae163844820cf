{#- A view, read live by the dashboard: has the loader committed files that no completed dbt
    build has seen yet? Pending = raw.files rows not in a batch at or before the last
    completed build (exact even when a file commits while a build runs). -#}

{{ config(materialized='view') }}

with

files as (

    select * from {{ ref('stg_raw__files') }}

),

batches as (

    select * from {{ ref('int_file_batches') }}

),

runs as (

    select * from {{ ref('dbt_runs') }}

),

last_build as (

    select
        max(built_at) as marts_built_at,
        max(batch_id) as batch_id
    from runs

),

built_files as (

    select batches.file_id
    from batches
    cross join last_build
    where batches.batch_id <= last_build.batch_id

),

file_stats as (

    select
        max(files.loaded_at) as last_file_loaded_at,
        count(*) filter (where built_files.file_id is null) as files_pending_dbt
    from files
    left join built_files
        on built_files.file_id = files.file_id

),

final as (

    select
        file_stats.last_file_loaded_at,
        last_build.marts_built_at,
        cast(file_stats.files_pending_dbt as bigint) as files_pending_dbt,
        file_stats.files_pending_dbt > 0 as is_dbt_behind
    from file_stats
    cross join last_build

)

select * from final
