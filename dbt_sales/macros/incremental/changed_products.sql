{#- A subquery of the product names the pending change-log batches touch (batch_id above the
    calling model's watermark): every name any raw row of a changed sale carries, in any file,
    so both the product a sale left and the one it joined are recomputed. -#}
{% macro changed_products() -%}
    select sale_rows.product_name
    from {{ ref('int_sales__changes') }} as changes
    inner join {{ ref('stg_raw__sale_rows') }} as sale_rows
        on sale_rows.sale_id = changes.sale_id
    where changes.batch_id > {{ batch_watermark() }}
        and changes.sale_id is not null
{%- endmacro %}
