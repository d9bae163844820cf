{#- One row per completed build: dbt only runs this model once every mart before it (and
    their tests) succeeded, so `built_at` is when the marts were last complete. -#}

-- depends_on: {{ ref('fct_sales') }}
-- depends_on: {{ ref('dim_products') }}
-- depends_on: {{ ref('kpi_daily_sales') }}
-- depends_on: {{ ref('kpi_category_sales') }}
-- depends_on: {{ ref('kpi_product_sales') }}
-- depends_on: {{ ref('kpi_sales_trend') }}
-- depends_on: {{ ref('kpi_segment_sales') }}
-- depends_on: {{ ref('kpi_product_segment_sales') }}
-- depends_on: {{ ref('kpi_segment_trend') }}
-- depends_on: {{ ref('kpi_segment_category_sales') }}
-- depends_on: {{ ref('dq_files') }}
-- depends_on: {{ ref('dq_rejected_rows') }}
-- depends_on: {{ ref('dq_product_identity') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}

with

batches as (

    select * from {{ ref('int_file_batches') }}

),

this_build as (

    select
        count(*) filter (where invocation_id = '{{ invocation_id }}') as files_new,
        max(batch_id) as batch_id
    from batches

),

final as (

    select
        now() as built_at,
        cast('{{ invocation_id }}' as text) as invocation_id,
        cast(coalesce(batch_id, 0) as bigint) as batch_id,
        cast(files_new as bigint) as files_new,
        -- This model runs last, so the time since the build started (dbt's own start time)
        -- covers every model and test before it (not the on-run-end hooks).
        cast(
            extract(epoch from clock_timestamp()
                    - cast('{{ run_started_at.isoformat() }}' as timestamptz))
            as numeric(10, 2)
        ) as duration_seconds
    from this_build

)

select * from final
