{#- One row per sale_id out of `candidate_rows` (rows of current object versions only, with
    the columns of stg_raw__sale_rows plus `_source_key` and `_loaded_at`): the row from the
    most recently loaded file wins (a restatement), then the higher file_id, then the first row
    of that file. Shared by stg_raw__sales (all history) and fct_sales (affected sale_ids only)
    so that the incremental path and a full refresh resolve a sale identically. -#}
{% macro latest_sale_version(candidate_rows) -%}
    select
        *,
        row_number() over (
            partition by sale_id
            order by _loaded_at desc, _file_id desc, _row_number asc
        ) as _version_rank
    from {{ candidate_rows }}
{%- endmacro %}
