{#- Pre-hook of the incremental marts: delete the rows whose `column` (sale_id or sale_date)
    was touched by a change-log batch the mart has not consumed yet; the model body then
    inserts their fresh version (append). Deleting first, rather than relying on
    delete+insert by unique key, is what makes a sale that only existed in a superseded
    object version, or a day left without sales, disappear. Runs in the model's transaction
    and reads the same watermark as the model body (see batch_watermark). Days are written
    as literals (see date_list): against a subquery the planner, misled about the size of
    the pending batch, re-scanned the change log for every row of the mart. -#}
{% macro delete_pending(column) -%}
    {%- if is_incremental() -%}
        {%- set changes = ref('int_sales__changes') -%}
        {%- set pending -%}
            select changes.{{ column }}
            from {{ changes }} as changes
            where changes.batch_id > {{ batch_watermark() }}
                and changes.{{ column }} is not null
        {%- endset -%}
        delete from {{ this }}
        {%- if column == 'sale_date' %}
        where sale_date in {{ date_list(pending, changes) }}
        {%- else %}
        where {{ column }} in ({{ pending }})
        {%- endif %}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook: an index for the dashboard's and the incremental runs' lookups. (The
    incremental models also refresh their statistics when they grew, see analyze_if_grown.) -#}
{% macro create_index(columns) -%}
    create index if not exists {{ this.identifier }}__{{ columns | join('__') }}_idx
        on {{ this }} ({{ columns | join(', ') }})
{%- endmacro %}
