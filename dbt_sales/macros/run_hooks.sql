{#- The project's on-run-start hooks, and what they share. -#}

{#- True for the commands that write models (`build`, `run`, `seed`, `snapshot`, `retry`),
    only while executing. `test`, `compile`, `docs generate`, `ls`, `show` and
    `source freshness` write nothing. -#}
{% macro writes_warehouse() -%}
    {{- return(execute and flags.WHICH in ['build', 'run', 'seed', 'snapshot', 'retry']) -}}
{%- endmacro %}

{#- on-run-start: the shared schemas (target `prod`) have one writer at a time, and the lock
    that says whose turn it is lives outside dbt, in the process that starts it
    (`salespipe build`, or the loader's builds: a PostgreSQL session advisory lock, see
    loader/build_lock.py). That process passes its backend pid in the environment
    (SALESPIPE_BUILD_LOCK_PID, read only while executing, so it costs no re-parse); a prod run
    whose pid does not hold the lock stops here, before it writes anything. Other targets (an
    analyst's `dev`) need no lock. -#}
{% macro require_salespipe_build() -%}
    {%- if not writes_warehouse() or target.name != 'prod' -%}
        {{- return('select 1') -}}
    {%- endif -%}
    {%- set pid = env_var('SALESPIPE_BUILD_LOCK_PID', '') -%}
    {%- set held = false -%}
    {%- if pid.isdigit() -%}
        {%- set found = run_query(
            "select count(*) from pg_locks where locktype = 'advisory' and granted"
            ~ " and classid = 7406 and objid = 1 and objsubid = 2 and pid = " ~ (pid | int)
            ~ " and database = (select oid from pg_database where datname = current_database())") -%}
        {%- set held = found.columns[0].values()[0] | int > 0 -%}
    {%- endif -%}
    {%- if not held -%}
        {{ exceptions.raise_compiler_error(
            "Builds of the shared schemas (--target prod) run one at a time through"
            ~ " `salespipe build` (it waits for the loader's build); use `salespipe build "
            ~ "[dbt args]`, or build your own schemas with --target dev.") }}
    {%- endif -%}
    select 1
{%- endmacro %}
