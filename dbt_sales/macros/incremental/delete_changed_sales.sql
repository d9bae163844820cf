{#- Pre-hook of fct_sales: delete every sale_id of the change-log batches newer than the
    table's watermark; the model body then inserts the current version of those that still
    have one. Deleting first, rather than delete+insert by unique key alone, is what makes a
    sale that only existed in a superseded object version disappear. Runs in the model's
    transaction and reads the same watermark as the model body (see batch_watermark). -#}
{% macro delete_changed_sales() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where sale_id in (
            select changes.sale_id
            from {{ ref('int_sales__changes') }} as changes
            where changes.batch_id > {{ batch_watermark() }}
                and changes.sale_id is not null
        )
    {%- endif -%}
{%- endmacro %}
