{#- The days a day-grain incremental model recomputes: every sale_date of the change-log
    batches newer than the model's watermark (its newest `_batch_id`). Whole days, so day-level
    ratios and ranks stay exact. Written as date literals (see date_list), for
    `where sale_date in {{ days_to_rebuild() }}`. -#}
{% macro days_to_rebuild() -%}
    {%- set changes = ref('int_sales__changes') -%}
    {{- date_list(
        'select sale_date from ' ~ changes ~ ' where batch_id > ' ~ batch_watermark()
        ~ ' and sale_date is not null', changes) -}}
{%- endmacro %}
