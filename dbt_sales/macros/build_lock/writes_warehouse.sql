{#- True for the commands that write models or run data tests against the warehouse
    (`build`, `run`, `test`, `seed`, `snapshot`, `retry`), and only while executing. `compile`,
    `docs generate`, `ls`, `show`, `parse` and `source freshness` are read-only: their hooks
    must write nothing. -#}
{% macro writes_warehouse() -%}
    {{- return(execute and flags.WHICH in ['build', 'run', 'test', 'seed', 'snapshot', 'retry']) -}}
{%- endmacro %}
