{#- Pre-hook of every model: prove the build lock is still this invocation's (fail the model
    otherwise, rather than write beside another build), refresh its heartbeat, and take the
    shared liveness lock on this node's connection (released when dbt closes it). -#}
{% macro heartbeat_build_lock() -%}
    {%- if not writes_warehouse() -%}
        {{- return('') -}}
    {%- endif -%}
    do $heartbeat$
    begin
        update {{ build_lock_relation() }}
        set heartbeat_at = clock_timestamp()
        where lock_name = 'build' and holder = '{{ invocation_id }}';
        if not found then
            raise exception 'dbt invocation {{ invocation_id }} does not hold the build lock of {{ build_lock_relation().schema }}';
        end if;
        perform pg_advisory_lock_shared({{ build_lock_key(alive=true) }});
    end
    $heartbeat$
{%- endmacro %}
