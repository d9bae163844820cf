-- dq_product_identity equals the counts taken straight from fct_sales, and is self-consistent.
-- The comparison with fct_sales reads the whole table, so it runs in builds and tests without a
-- build window (an analyst's `dbt test`); the consistency checks run on every build.
with

dq as (

    select * from {{ ref('dq_product_identity') }}

),

inconsistent as (

    select 'inconsistent counts' as problem
    from dq
    where ids_with_several_names > product_ids
        or names_with_several_ids > product_names
        or (product_ids = 0) <> (product_names = 0)

),

{% if build_window() is none %}
pairs as (

    select distinct product_id, product_name
    from {{ ref('fct_sales') }}

),

expected as (

    select
        (select count(distinct product_name) from pairs) as product_names,
        (select count(distinct product_id) from pairs) as product_ids,
        (
            select count(*) from (
                select product_id from pairs group by product_id having count(*) > 1
            ) as ids
        ) as ids_with_several_names,
        (
            select count(*) from (
                select product_name from pairs group by product_name having count(*) > 1
            ) as names
        ) as names_with_several_ids

),

mismatched as (

    select 'differs from fct_sales' as problem
    from expected
    cross join dq
    where (expected.product_names, expected.product_ids, expected.ids_with_several_names,
           expected.names_with_several_ids)
        is distinct from (dq.product_names, dq.product_ids, dq.ids_with_several_names,
                          dq.names_with_several_ids)

),
{% else %}
mismatched as (

    select cast(null as text) as problem
    where false

),
{% endif %}

final as (

    select * from inconsistent
    union all
    select * from mismatched

)

select * from final
