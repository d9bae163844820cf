{#- on-run-start: wait until no other live dbt invocation holds the build lock of this
    target's schemas, then take it; also creates the batch sequence (see next_batch_id).

    Why a lease row and not a session advisory lock: dbt closes its connection after the
    hooks and after every node, so a session lock taken here would be gone before the first
    model runs. The lease names its holder (`invocation_id`). The holder is alive while one
    of its node connections holds the shared advisory lock every model takes in its
    pre-hook (heartbeat_build_lock), or while its last heartbeat is younger than
    `build_lock_grace_seconds` (default 30; covers the gaps between nodes and the tests).
    A holder that crashed or was killed is therefore taken over after at most that grace;
    one that finishes releases at once (release_build_lock). Waiting prints who holds it;
    after `build_lock_timeout_seconds` (default 3600) the run fails. -#}
{% macro acquire_build_lock() -%}
    {%- if not writes_warehouse() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set lock = build_lock_relation() -%}
    {%- set grace = var('build_lock_grace_seconds', 30) | int -%}
    {%- set timeout = var('build_lock_timeout_seconds', 3600) | int -%}
    {%- call statement('create_build_lock', auto_begin=true) -%}
        {{ build_lock_role() }}
        select pg_advisory_xact_lock({{ build_lock_key() }});
        create schema if not exists {{ adapter.quote(lock.schema) }};
        create table if not exists {{ lock }} (
            lock_name text primary key,
            holder text,
            target_name text,
            acquired_at timestamptz,
            heartbeat_at timestamptz
        );
        insert into {{ lock }} (lock_name) values ('build') on conflict do nothing;
        create sequence if not exists {{ batch_sequence() }} as bigint;
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {%- set state = namespace(held=false, waited=0, holder=none) -%}
    {%- for attempt in range(timeout) -%}
        {%- if not state.held -%}
            {%- call statement('claim_build_lock', fetch_result=true, auto_begin=true) -%}
                {{ build_lock_role() }}
                update {{ lock }} as lock
                set holder = '{{ invocation_id }}', target_name = '{{ target.name }}',
                    acquired_at = clock_timestamp(), heartbeat_at = clock_timestamp()
                where lock.lock_name = 'build'
                    and (lock.holder is null
                        or (lock.heartbeat_at < clock_timestamp() - interval '{{ grace }} seconds'
                            and not exists (
                                select from pg_locks
                                where locktype = 'advisory' and granted
                                    and (classid, objid, objsubid)
                                        = ({{ build_lock_key(alive=true, as_row=true) }}))))
                returning holder
            {%- endcall -%}
            {%- set claimed = load_result('claim_build_lock').table -%}
            {%- do adapter.commit() -%}
            {%- if claimed.rows | length == 1 -%}
                {%- set state.held = true -%}
            {%- else -%}
                {%- set holder = run_query(
                    "select holder || coalesce(' (target ' || target_name || ', since '"
                    ~ " || to_char(acquired_at, 'HH24:MI:SS') || ')', '') from " ~ lock) -%}
                {%- if state.waited % 10 == 0 -%}
                    {{ log("Waiting for the dbt build lock of " ~ lock.schema ~ ": held by dbt invocation "
                        ~ holder.columns[0].values()[0] ~ " (waited " ~ state.waited ~ " s)", info=true) }}
                {%- endif -%}
                {%- do run_query("select pg_sleep(1)") -%}
                {%- set state.waited = state.waited + 1 -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not state.held -%}
        {{ exceptions.raise_compiler_error("Gave up waiting for the dbt build lock of "
            ~ lock.schema ~ " after " ~ timeout ~ " s") }}
    {%- endif -%}
    {%- do refresh_relation_cache() -%}
    {%- if state.waited > 0 -%}
        {{ log("Took the dbt build lock of " ~ lock.schema ~ " after " ~ state.waited ~ " s", info=true) }}
    {%- endif -%}
    select 1
{%- endmacro %}
