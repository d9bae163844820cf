{#- The sequence that numbers batches (int_file_batches.batch_id): identity from the
    database, never from a client's clock, and kept across full refreshes. -#}
{% macro batch_sequence() -%}
    {{- return(generate_schema_name('staging', none) ~ '.dbt_batch_id_seq') -}}
{%- endmacro %}
