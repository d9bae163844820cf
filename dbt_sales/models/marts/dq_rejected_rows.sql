{#- Rejected rows by reason, per load day (UTC) and object key. A row refused for three
    reasons counts once under each. Whole-file rejections are in dq_files. -#}

with

rejected as (

    select * from {{ ref('stg_raw__sales_rejected') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

by_reason as (

    select
        cast(timezone('UTC', files.loaded_at) as date) as load_date,
        rejected._source_key as source_key,
        rejected.reason,
        count(*) as rejected_rows
    from rejected
    inner join files
        on files.file_id = rejected._file_id
    group by 1, 2, 3

),

final as (

    select
        load_date,
        source_key,
        reason,
        cast(rejected_rows as bigint) as rejected_rows
    from by_reason

)

select * from final
