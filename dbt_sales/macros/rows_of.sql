{#- The stg_raw__sale_rows rows of one sale_id / one file_id, for a `cross join lateral`.

    This is what keeps incremental builds proportional to the new data: each affected key is
    an index lookup on raw.sales (sales_sale_id_idx, or the primary key for file_id). Left
    to itself the planner turns the join into a hash join over a sequential scan of all of
    raw.sales once the batch is a few percent of the history; `offset 0` keeps the subquery
    from being flattened into such a join. -#}
{% macro rows_of_sale(sale_id) -%}
    select * from {{ ref('stg_raw__sale_rows') }}
    where sale_id = {{ sale_id }}
    offset 0
{%- endmacro %}


{% macro rows_of_file(file_id) -%}
    select * from {{ ref('stg_raw__sale_rows') }}
    where _file_id = {{ file_id }}
    offset 0
{%- endmacro %}
