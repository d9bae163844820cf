{#- The product a row belongs to: its name with runs of whitespace collapsed to one space and
    the ends trimmed (see the product_identity doc block). Whitespace is the ASCII set the
    loader calls blank, so a name the loader accepted never normalizes to ''. -#}
{% macro normalize_product_name(column) -%}
    {{ collapse_whitespace(column) }}
{%- endmacro %}


{#- One row per `keys` group of `relation` with the value of `column` that most of the group's
    rows carry; ties go to the first value in code-point order (collation "C", so the choice
    does not depend on the database's locale). For attributes such as a product's category,
    which files may disagree on. -#}
{% macro most_frequent(relation, keys, column) -%}
    select
        {{ keys | join(', ') }},
        {{ column }}
    from (
        select
            {{ keys | join(', ') }},
            {{ column }},
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by count(*) desc, {{ code_point_order(column) }}
            ) as frequency_rank
        from {{ relation }}
        group by {{ keys | join(', ') }}, {{ column }}
    ) as ranked
    where frequency_rank = 1
{%- endmacro %}
