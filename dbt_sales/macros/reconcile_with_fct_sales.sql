{#- The rows of a KPI mart that disagree with an independent aggregate of fct_sales, for the
    days of the build window (every day without one): missing on either side, or any measure different.

    `keys`: the mart's grain after sale_date. `measures`: mart column -> aggregate over
    fct_sales. `active_only`: leave canceled sales out before aggregating (the marts that
    have no canceled-sales column); otherwise the measures filter themselves.
    Returns one row per mismatch: sale_date, the keys, and problem = 'row'. -#}
{% macro reconcile_with_fct_sales(mart, keys, measures, active_only=true) -%}
    {%- set grain = ['sale_date'] + keys -%}
    with

    fct as (

        select * from {{ ref('fct_sales') }}
        where {{ in_build_window('sale_date') }}
        {%- if active_only %} and not is_canceled{% endif %}

    ),

    mart as (

        select * from {{ ref(mart) }}
        where {{ in_build_window('sale_date') }}

    ),

    expected as (

        select
            {{ grain | join(', ') }},
            {%- for name, aggregate in measures.items() %}
            {{ aggregate }} as {{ name }}{{ ',' if not loop.last }}
            {%- endfor %}
        from fct
        group by {{ grain | join(', ') }}

    )

    select
        {%- for key in grain %}
        coalesce(expected.{{ key }}, mart.{{ key }}) as {{ key }},
        {%- endfor %}
        'row' as problem
    from expected
    full outer join mart
        on {% for key in grain %}mart.{{ key }} = expected.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
    where expected.sale_date is null
        or mart.sale_date is null
        {%- for name in measures %}
        or mart.{{ name }} is distinct from expected.{{ name }}
        {%- endfor %}
{%- endmacro %}
