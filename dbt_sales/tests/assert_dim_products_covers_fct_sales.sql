-- Every product sold on the days the last build touched has its row in dim_products.
with

sold as (

    select distinct product_name
    from {{ ref('fct_sales') }}
    where {{ in_build_window('sale_date') }}

),

products as (

    select * from {{ ref('dim_products') }}

)

select sold.product_name
from sold
left join products
    on products.product_name = sold.product_name
where products.product_name is null
