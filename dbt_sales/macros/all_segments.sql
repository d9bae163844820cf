{#- The sales_region / sales_channel value of the segment marts' rows that stand for every
    region or every channel: the empty string. A primary key cannot hold NULL, and no real
    segment is empty: the loader rejects a row whose region or channel is blank. -#}
{% macro all_segments() -%}
    ''
{%- endmacro %}
