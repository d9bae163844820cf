{#- One row: how far product ids and product names disagree across all current sales. A
    plain table over the small per-day pair table, rebuilt on every run. -#}

with

pairs as (

    select distinct
        product_id,
        product_name
    from {{ ref('int_product_id_names') }}

),

names_per_id as (

    select
        product_id,
        count(*) as names
    from pairs
    group by product_id

),

ids_per_name as (

    select
        product_name,
        count(*) as ids
    from pairs
    group by product_name

),

final as (

    select
        (select count(*) from ids_per_name) as product_names,
        (select count(*) from names_per_id) as product_ids,
        (select count(*) from names_per_id where names > 1) as ids_with_several_names,
        (select count(*) from ids_per_name where ids > 1) as names_with_several_ids

)

select * from final
