{#- Amounts add up: total = quantity x unit_price x (1 - discount_pct/100), within a cent
    (the loader applies the same rule; a failure here means the rule broke downstream). -#}
{% test money_consistent(model, quantity, unit_price, discount_pct, total, tolerance=0.01) %}

select
    {{ quantity }} as quantity,
    {{ unit_price }} as unit_price,
    {{ discount_pct }} as discount_pct,
    {{ total }} as total
from {{ model }}
where abs(
    {{ total }} - {{ quantity }} * {{ unit_price }} * (1 - coalesce({{ discount_pct }}, 0) / 100.0)
) > {{ tolerance }}

{% endtest %}
