{#- The build window: what changed since the last prod build, as the loader (or
    `salespipe build`) hands it over. The loader keeps the ledger (raw.files.built_at) and
    computes the window; dbt keeps no state and runs no query to learn it.

        new_files:    [file_id, ...]   raw.files rows no completed build has seen
        changed_days: ['YYYY-MM-DD', ...]  every day any raw row of any sale in those files,
                                       or in another version of the same object keys, is on

    The loader passes them as JSON in the environment (SALESPIPE_BUILD_WINDOW), read only while
    executing: a changed `--vars` makes dbt re-parse the whole project (4.5 s of every build on
    the 2-core machine), a value read at run time does not. By hand, the same two keys work as
    `--vars` and win over the environment.

    Without a window (an analyst's plain `dbt build`, a backfill too large to window) every
    incremental model recomputes whole, so a mart is never partial. -#}

{#- The window, or none when the build has none (and always while parsing). -#}
{% macro build_window() -%}
    {%- if not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set handed = env_var('SALESPIPE_BUILD_WINDOW', '') -%}
    {%- set window = fromjson(handed) if handed else {} -%}
    {%- set files = var('new_files', window.get('new_files')) -%}
    {%- set days = var('changed_days', window.get('changed_days')) -%}
    {%- if files is none or days is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return({'files': files | map('int') | list, 'days': days | map('string') | list}) -}}
{%- endmacro %}

{#- `column in (date '...', ...)` for the window's days, or `true` with no window. Literals, not
    a subquery: PostgreSQL then reads the days' statistics and uses the sale_date index (with
    a subquery it guessed every day and scanned all of fct_sales: 1-1.5 s per model at
    10,000,000 sales). -#}
{% macro in_build_window(column) -%}
    {%- set window = build_window() -%}
    {%- if window is none -%}
        true
    {%- elif window.days | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in (
            {%- for day in window.days | sort -%}
                cast('{{ day }}' as date){{ ', ' if not loop.last }}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#- The sale_ids whose resolution may have changed: every sale_id of the new files and of every
    other loaded version of the same object keys (a new version may drop a sale, or stop being
    the current one). A subquery, for `sale_id in (...)`. -#}
{% macro changed_sale_ids() -%}
    {%- set window = build_window() -%}
    {%- set file_ids = window.files if window is not none and window.files else [-1] -%}
    select distinct sale_rows.sale_id
    from {{ ref('stg_raw__files') }} as files
    {{ join_sale_rows('_file_id', 'files.file_id') }}
    where files.is_loaded
        and files.source_key in (
            select new_files.source_key
            from {{ ref('stg_raw__files') }} as new_files
            where new_files.file_id in (
                {{- file_ids | join(', ') -}}
            )
        )
{%- endmacro %}

{#- Pre-hook of the incremental marts: delete what the model is about to recompute, i.e. the
    rows whose `column` is in `keys` (a subquery or literal list; the window's days when
    omitted), or every row when the build has no window. Deleting first, then appending, also
    removes a day (or sale, or product) that has nothing left to insert. -#}
{% macro delete_build_window(column='sale_date', keys=none) -%}
    {%- if is_incremental() -%}
        {%- if build_window() is none -%}
            delete from {{ this }}
        {%- elif keys is none -%}
            delete from {{ this }} where {{ in_build_window(column) }}
        {%- else -%}
            delete from {{ this }} where {{ in_by_index(column, keys) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The product names dim_products recomputes: every name any raw row of a changed sale carries,
    in any file, so both the product a sale left and the one it joined are recomputed. -#}
{% macro changed_products() -%}
    select sale_rows.product_name
    from ({{ changed_sale_ids() }}) as changed
    {{ join_sale_rows('sale_id', 'changed.sale_id') }}
{%- endmacro %}
