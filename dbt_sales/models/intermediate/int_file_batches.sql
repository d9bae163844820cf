{#- The ledger of which dbt build first saw each raw.files row. Append-only: every build adds
    the files committed since the previous build, numbered with one value of the database's
    batch sequence (`batch_id`, increasing from build to build because builds hold the build
    lock). A file committed while a build runs is simply picked up by the next one. -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['batch_id']}],
        post_hook="{{ analyze_if_grown() }}",
    )
}}

with

files as (

    select * from {{ ref('stg_raw__files') }}

),

new_files as (

    select
        files.file_id,
        files.source_key,
        files.status,
        files.loaded_at,
        (select nextval('{{ batch_sequence() }}')) as batch_id,
        cast('{{ invocation_id }}' as text) as invocation_id

    from files
    {% if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as seen
        where seen.file_id = files.file_id
    )
    {% endif %}

),

final as (

    select * from new_files

)

select * from final
