{#- True when the files of the change-log batches after `watermark` hold at most
    max(50,000, 5%) of raw.sales' rows: then per-key index lookups beat one scan of the
    table. `--vars '{index_lookup_max_rows: N}'` sets the limit instead (tests use it to
    take each path). Read while the model compiles; true when not executing. -#}
{% macro lookups_pay_off(watermark) -%}
    {%- if not execute -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set sql -%}
        select
            coalesce(sum(files.rows_valid), 0),
            (select greatest(reltuples, 0)::bigint from pg_class
             where oid = '{{ source("raw", "sales") }}'::regclass)
        from {{ ref('int_file_batches') }} as batches
        inner join {{ ref('stg_raw__files') }} as files
            on files.file_id = batches.file_id
        where batches.batch_id > {{ watermark }}
    {%- endset -%}
    {%- set row = run_query(sql).rows[0] -%}
    {%- set pending, history = row[0] | int, row[1] | int -%}
    {%- set limit = var('index_lookup_max_rows', none) -%}
    {%- if limit is none -%}
        {%- set limit = [50000, (history * 0.05) | int] | max -%}
    {%- endif -%}
    {{- return(pending <= limit | int) -}}
{%- endmacro %}
