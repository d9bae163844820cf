{#- The advisory lock keys of the build lock: `alive` is the shared lock every model of the
    holder takes (its liveness), else the key that serialises creating the lock table.
    `as_row`: as pg_locks spells a two-key lock, `(classid, objid, objsubid)`. -#}
{% macro build_lock_key(alive=false, as_row=false) -%}
    {%- set keys = [370149, 3 if alive else 4] -%}
    {%- if as_row -%}
        {{- return(keys[0] ~ ', ' ~ keys[1] ~ ', 2') -}}
    {%- endif -%}
    {{- return(keys[0] ~ ', ' ~ keys[1]) -}}
{%- endmacro %}
