{#- The places where dbt_sales tells PostgreSQL how to run a query, each kept because a
    measurement at 10,000,000 sales showed the plain SQL losing. -#}

{#- Reach the raw rows of a few keys (`{{ join_sale_rows('sale_id', 'changed.sale_id') }}` in a
    FROM clause) by one index probe per key (sales_sale_id_idx, or the primary key for
    `_file_id`). Left to itself the planner turns these into a hash join over a sequential scan
    of all of raw.sales once a window is a few percent of the history; `offset 0` keeps the
    subquery from being flattened into that join. Why it stays: a version of the build window
    with plain joins here (and without analyze_if_grown) took 138 s for `dbt build` after one
    10,000-row file at 10,000,000 sales against 7.5 s at 100,000 (18x); with both, 1.13x
    (`make bench`, scale section). The loader sends no window (a whole recompute, one scan)
    when the new rows are more than 5 % of raw.sales, where the scan is the better plan. -#}
{% macro join_sale_rows(column, outer_key) -%}
    {{- return(adapter.dispatch('join_sale_rows', 'dbt_sales')(column, outer_key)) -}}
{%- endmacro %}

{% macro default__join_sale_rows(column, outer_key) -%}
    inner join {{ ref('stg_raw__sale_rows') }} as sale_rows
        on sale_rows.{{ column }} = {{ outer_key }}
{%- endmacro %}

{% macro postgres__join_sale_rows(column, outer_key) -%}
    cross join lateral (
        select * from {{ ref('stg_raw__sale_rows') }}
        where {{ column }} = {{ outer_key }}
        offset 0
    ) as sale_rows
{%- endmacro %}

{#- Post-hook of the large incremental tables: refresh the planner's statistics when the table
    grew by more than `fraction` since they were last taken, so the next model plans on the
    rows just written. Growth is read from the catalog, which costs nothing; an unconditional
    `analyze` cost 1.5 s per build on a 10,000,000-row fct_sales. -#}
{% macro analyze_if_grown(fraction=0.1) -%}
    {{- return(adapter.dispatch('analyze_if_grown', 'dbt_sales')(fraction)) -}}
{%- endmacro %}

{% macro default__analyze_if_grown(fraction) -%}
    select 1
{%- endmacro %}

{% macro postgres__analyze_if_grown(fraction) -%}
    do $analyze$
    begin
        if (
            select c.relpages = 0
                or pg_relation_size(c.oid) / current_setting('block_size')::int
                    > (1 + {{ fraction }}) * c.relpages
            from pg_class as c
            where c.oid = '{{ this.schema }}.{{ this.identifier }}'::regclass
        ) then
            analyze {{ this }};
        end if;
    end
    $analyze$
{%- endmacro %}

{#- `column` is one of the values `subquery` returns, found by index probes of `column`'s index
    (`delete ... where {{ in_by_index('sale_id', changed_sale_ids()) }}`). Written as
    `in (subquery)`, PostgreSQL estimated the window's sale_ids at a whole file's worth of
    every file_id and chose a hash semi-join over a sequential scan of fct_sales: its
    pre-hook made fct_sales take 4.5 s per build at 10,000,000 sales against 0.46 s at
    100,000. `= any(array(...))` is computed once, then probed through the primary key:
    0.6-0.9 s at 10,000,000 sales, 0.5-0.9 s at 100,000 (`make bench`, scale section). -#}
{% macro in_by_index(column, subquery) -%}
    {{- return(adapter.dispatch('in_by_index', 'dbt_sales')(column, subquery)) -}}
{%- endmacro %}

{% macro default__in_by_index(column, subquery) -%}
    {{ column }} in ({{ subquery }})
{%- endmacro %}

{% macro postgres__in_by_index(column, subquery) -%}
    {{ column }} = any(array({{ subquery }}))
{%- endmacro %}
