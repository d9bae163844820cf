with

source as (

    select * from {{ source('raw', 'files') }}

),

renamed as (

    select
        file_id,
        bucket as source_bucket,
        key as source_key,
        etag as source_etag,
        size_bytes,
        object_modified_at,
        status,
        reason,
        cast(rows_total as bigint) as rows_total,
        cast(rows_valid as bigint) as rows_valid,
        cast(rows_rejected as bigint) as rows_rejected,
        encoding,
        delimiter,
        received_at,
        loaded_at,
        built_at,
        status = 'loaded' as is_loaded

    from source

),

versioned as (

    select
        *,
        is_loaded and row_number() over (
            partition by source_key, is_loaded
            order by object_modified_at desc nulls last, file_id desc
        ) = 1 as is_current_version

    from renamed

),

final as (

    select * from versioned

)

select * from final
