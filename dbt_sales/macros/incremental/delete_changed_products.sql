{#- Pre-hook of dim_products: delete the products it is about to recompute (changed_products),
    so a product left without any sale disappears, as it would from a full refresh. -#}
{% macro delete_changed_products() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where product_name in ({{ changed_products() }})
    {%- endif -%}
{%- endmacro %}
