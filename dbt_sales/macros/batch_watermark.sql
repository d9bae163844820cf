{#- The newest `_batch_at` an incremental model has already consumed, as a SQL literal.

    Read with run_query while the model compiles, i.e. before its pre-hook deletes anything,
    so the model body and its pre-hook agree on the same watermark. `'-infinity'` when the
    model is being built from scratch or is empty. -#}
{% macro batch_watermark(column='_batch_at') -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query('select max(' ~ column ~ ')::text from ' ~ this) -%}
        {%- set value = result.columns[0].values()[0] -%}
        {%- if value is none -%}
            cast('-infinity' as timestamptz)
        {%- else -%}
            cast('{{ value }}' as timestamptz)
        {%- endif -%}
    {%- else -%}
        cast('-infinity' as timestamptz)
    {%- endif -%}
{%- endmacro %}


{#- This run's start time (UTC), the stamp of the files a build sees for the first time. -#}
{% macro run_started_at_literal() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamptz)
{%- endmacro %}
