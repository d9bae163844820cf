{#- The newest `_batch_id` an incremental model has already consumed, as a SQL literal.

    Read with run_query while the model compiles, i.e. before its pre-hook deletes anything,
    so the model body and its pre-hook agree on the same watermark. 0 (before any batch) when the
    model is being built from scratch or is empty. -#}
{% macro batch_watermark(column='_batch_id') -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query('select max(' ~ column ~ ')::text from ' ~ this) -%}
        {%- set value = result.columns[0].values()[0] -%}
        {%- if value is none -%}
            cast(0 as bigint)
        {%- else -%}
            cast({{ value }} as bigint)
        {%- endif -%}
    {%- else -%}
        cast(0 as bigint)
    {%- endif -%}
{%- endmacro %}
