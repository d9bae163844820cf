-- The ledger of what the marts include: a prod build (the loader's, or `salespipe build`)
-- stamps the files it included once dbt succeeded, and passes the pending ones to dbt as its
-- build window. Null = not yet in the marts. dbt itself keeps no state.
alter table raw.files add column if not exists built_at timestamptz;
create index if not exists files_pending_build_idx on raw.files (file_id) where built_at is null;
-- Builds run as the transform role, which may stamp this one column and nothing else of raw.
grant update (built_at) on raw.files to salespipe_transform;
