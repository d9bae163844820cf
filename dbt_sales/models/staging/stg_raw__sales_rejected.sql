{#- One row per (rejected row, reason): the loader records every reason a row fails. -#}

with

source as (

    select * from {{ source('raw', 'sales_rejected') }}

),

unnested as (

    select
        source.file_id as _file_id,
        source.key as _source_key,
        source.row_number as _row_number,
        reasons.reason,
        reasons.reason_position,
        source.raw_values

    from source
    cross join lateral unnest(source.reasons) with ordinality as reasons (reason, reason_position)

),

final as (

    select * from unnested

)

select * from final
