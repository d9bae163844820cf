{#- Pre-hook of the day-grain incremental models: delete every day they are about to
    recompute (days_to_rebuild). delete+insert by sale_date alone would only replace the days
    that still have sales; a day that lost all of them (moved to another day, or dropped by a
    new object version) would keep its stale rows. Runs in the model's transaction, before
    dbt's own delete+insert. -#}
{% macro delete_days_to_rebuild() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where sale_date in {{ days_to_rebuild() }}
    {%- endif -%}
{%- endmacro %}
