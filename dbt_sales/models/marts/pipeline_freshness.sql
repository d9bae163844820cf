{#- A view, read live by the dashboard: has the loader committed files that no completed dbt
    build includes yet? The loader marks a file built (raw.files.built_at) once a prod build
    that included it succeeded, so this is exact even when a file commits while a build runs. -#}

{{ config(materialized='view') }}

with

files as (

    select * from {{ ref('stg_raw__files') }}

),

runs as (

    select * from {{ ref('dbt_runs') }}

),

last_build as (

    select max(built_at) as marts_built_at
    from runs

),

file_stats as (

    select
        max(loaded_at) as last_file_loaded_at,
        count(*) filter (where built_at is null) as files_pending_dbt
    from files

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
