{#- `set local role <profile role>;` for the on-run-* hooks. dbt sets the profile's role when
    it opens a connection, but rolls the hooks' connection back before running them, which
    undoes that `set role`: without this the lock table would belong to whoever logged in. -#}
{% macro build_lock_role() -%}
    {%- if target.get('role') -%}
        set local role {{ adapter.quote(target.role) }};
    {%- endif -%}
{%- endmacro %}
