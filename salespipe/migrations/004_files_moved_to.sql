-- With S3_AFTER_LOAD=move the loader moves an object out of incoming/ once its transaction
-- committed. `key` stays the key it was announced under (the identity a replay and the
-- skip-already-loaded check use); `moved_to` says where the object now lives.
alter table raw.files add column if not exists moved_to text;
