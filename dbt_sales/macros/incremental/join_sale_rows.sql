{#- How an incremental build reaches the raw rows of the keys it touches
    (`{{ join_sale_rows('sale_id', 'affected.sale_id', lookups) }}` in a FROM clause).

    Index lookups (`lookups` true) are what keep a normal build proportional to the new
    data: each key is one probe of raw.sales (sales_sale_id_idx, or the primary key for
    file_id). Left to itself the planner turns them into a hash join over a sequential scan
    of all of raw.sales once the batch is a few percent of the history; `offset 0` keeps
    the subquery from being flattened into that join. But for a backfill (a batch that is a
    sizeable share of raw.sales) that join is the right plan: ten million random probes took
    9 minutes where one scan takes seconds. `lookups_pay_off` chooses. -#}
{% macro join_sale_rows(column, outer_key, lookups) -%}
    {%- if lookups -%}
    cross join lateral (
        select * from {{ ref('stg_raw__sale_rows') }}
        where {{ column }} = {{ outer_key }}
        offset 0
    ) as sale_rows
    {%- else -%}
    inner join {{ ref('stg_raw__sale_rows') }} as sale_rows
        on sale_rows.{{ column }} = {{ outer_key }}
    {%- endif -%}
{%- endmacro %}
