{#- '1 star' .. '5 stars' -> 1 .. 5; anything else (empty, '6 stars', 'great') -> null. -#}
{% macro rating_to_int(column) -%}
    case
        when {{ regex_matches(column, "'^\s*[1-5]\s+stars?\s*$'") }}
            then cast(substring({{ column }} from '[1-5]') as integer)
    end
{%- endmacro %}
