-- Least privilege: one role per component. Applied by the administrative user
-- (POSTGRES_USER) through `salespipe migrate` / `salespipe services up`.
--   salespipe_loader     writes raw only
--   salespipe_transform  reads raw, owns staging and marts (dbt runs as it)
--   salespipe_dashboard  reads marts only
-- Roles are cluster-wide; the grants below are per database. The roles themselves, the
-- administrator's membership in them (components log in as POSTGRES_USER and switch to
-- their role) and any per-component login are set up by `salespipe.db.ensure_roles`
-- before this file runs: that needs the server version and the settings, and a login
-- that may not do it gets one clear message instead of an SQL error.

-- dbt may (re)create its schemas, e.g. after an analyst drops one for a clean rebuild.
do $$
begin
    execute format('grant create, connect on database %I to salespipe_transform',
                   current_database());
end
$$;

revoke all on schema raw from public;
grant usage on schema raw to salespipe_loader, salespipe_transform;
grant select, insert, update, delete on all tables in schema raw to salespipe_loader;
grant select on all tables in schema raw to salespipe_transform;
revoke all on all tables in schema raw from salespipe_dashboard;

create schema if not exists staging;
create schema if not exists marts;
alter schema staging owner to salespipe_transform;
alter schema marts owner to salespipe_transform;
revoke all on schema staging from public;
revoke all on schema marts from public;
grant usage on schema marts to salespipe_dashboard;
grant select on all tables in schema marts to salespipe_dashboard;
alter default privileges for role salespipe_transform in schema marts
    grant select on tables to salespipe_dashboard;

-- Nobody but the owner creates objects in public.
revoke create on schema public from public;
