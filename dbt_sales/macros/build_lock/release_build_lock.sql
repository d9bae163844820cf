{#- on-run-end: give the build lock back (whatever the run's outcome). -#}
{% macro release_build_lock() -%}
    {%- if not writes_warehouse() -%}
        {{- return('') -}}
    {%- endif -%}
    {{ build_lock_role() }}
    update {{ build_lock_relation() }}
    set holder = null, target_name = null, acquired_at = null, heartbeat_at = null
    where lock_name = 'build' and holder = '{{ invocation_id }}'
{%- endmacro %}
