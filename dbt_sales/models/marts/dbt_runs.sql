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

files as (

    select * from {{ ref('stg_raw__files') }}

),

this_build as (

    {% if build_window() is not none -%}
    select cast({{ build_window().files | length }} as bigint) as files_new
    {%- else -%}
    select count(*) as files_new
    from files
    where built_at is null
    {%- endif %}

),

final as (

    select
        now() as built_at,
        cast('{{ invocation_id }}' as text) as invocation_id,
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
