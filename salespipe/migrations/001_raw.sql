-- raw: what the loader wrote, exactly as it arrived (typed), plus load metadata.
-- History is kept: new object versions and restated sales are resolved downstream in dbt.
create schema if not exists raw;

create table if not exists raw.files (
    file_id            bigint generated always as identity primary key,
    bucket             text        not null,
    key                text        not null,
    etag               text        not null,
    size_bytes         bigint,
    object_modified_at timestamptz,
    status             text        not null check (status in ('loaded', 'rejected')),
    reason             text,
    rows_total         integer     not null default 0,
    rows_valid         integer     not null default 0,
    rows_rejected      integer     not null default 0,
    encoding           text,
    delimiter          text,
    extra_columns      text[]      not null default '{}',
    timings_ms         jsonb       not null default '{}'::jsonb,
    received_at        timestamptz not null,
    loaded_at          timestamptz not null default clock_timestamp(),
    constraint files_key_etag_uq unique (key, etag),
    constraint files_conservation check (status <> 'loaded' or rows_valid + rows_rejected = rows_total)
);

create table if not exists raw.sales (
    file_id          bigint      not null references raw.files (file_id) on delete cascade,
    row_number       integer     not null,
    sale_date        date        not null,
    sale_id          text        not null,
    product_id       text        not null,
    product_name     text        not null,
    product_category text        not null,
    quantity_sold    integer     not null,
    unit_price       numeric     not null,
    discount         numeric     not null,
    total_value      numeric     not null,
    unit_cost        numeric     not null,
    total_cost       numeric     not null,
    gross_profit     numeric     not null,
    payment_method   text        not null,
    payment_status   text        not null,
    payment_date     date,
    customer_id      text        not null,
    customer_name    text        not null,
    sales_channel    text        not null,
    sales_region     text        not null,
    sales_rep        text        not null,
    customer_rating  text,
    shipping_cost    numeric     not null,
    delivery_status  text        not null,
    delivery_date    date,
    primary key (file_id, row_number)
);
create index if not exists sales_sale_id_idx on raw.sales (sale_id);

create table if not exists raw.sales_rejected (
    file_id     bigint  not null references raw.files (file_id) on delete cascade,
    key         text    not null,
    row_number  integer not null,
    raw_values  jsonb   not null,
    reasons     text[]  not null,
    primary key (file_id, row_number)
);
