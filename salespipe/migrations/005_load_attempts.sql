-- Crash containment: a loader counts each delivery of a sales.files message here, in its
-- own committed statement, before it reads the file, and removes the row once the message
-- is handled. A file that kills the loader process (an abort, the OOM killer) leaves its
-- count behind; after LOADER_MAX_CRASHES such deliveries the message goes to the DLQ
-- instead of stopping every loader that receives it.
create table if not exists raw.load_attempts (
    topic           text        not null,
    kafka_partition integer     not null,
    kafka_offset    bigint      not null,
    attempts        integer     not null,
    last_started_at timestamptz not null default clock_timestamp(),
    primary key (topic, kafka_partition, kafka_offset)
);
grant select, insert, update, delete on raw.load_attempts to salespipe_loader;
revoke all on raw.load_attempts from salespipe_dashboard;
