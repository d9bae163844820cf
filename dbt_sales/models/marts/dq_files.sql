{#- One row per object version the loader handled, rejected files included. A plain table:
    raw.files has one row per file, never per sale. -#}

with

files as (

    select * from {{ ref('stg_raw__files') }}

),

final as (

    select
        file_id,
        source_key,
        status,
        reason,
        rows_total,
        rows_valid,
        rows_rejected,
        loaded_at,
        object_modified_at,
        is_current_version
    from files

)

select * from final
