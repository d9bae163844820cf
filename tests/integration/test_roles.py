"""Least privilege, proven on the real server: each component's role can touch only its part.

By default a component logs in as POSTGRES_USER and acts as its role from login on; with a
login of its own it cannot act as anything else."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from pydantic import SecretStr

from cli.local.logins import logins_path, passwords, with_local_logins
from salespipe import db

pytestmark = pytest.mark.integration


@pytest.fixture
def as_role(world):
    admin = world.settings
    with psycopg.connect(**admin.pg_connect_kwargs(), autocommit=True) as conn:
        conn.execute("create table if not exists staging.probe (x int)")
        conn.execute("create table if not exists marts.probe (x int)")
        conn.execute("grant select on marts.probe to salespipe_dashboard")

    def connect(component: str) -> psycopg.Connection:
        s = admin.for_component(component)
        return psycopg.connect(**s.pg_connect_kwargs(), autocommit=True)

    return connect


def denied(conn: psycopg.Connection, sql: str) -> bool:
    try:
        conn.execute(sql)  # type: ignore[arg-type]
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_dashboard_role_reads_marts_only_and_writes_nothing(as_role):
    with as_role("dashboard") as conn:
        assert conn.execute("select count(*) from marts.probe").fetchone() == (0,)
        assert denied(conn, "select * from raw.files")
        assert denied(conn, "select * from raw.sales")
        assert denied(conn, "select * from staging.probe")
        assert denied(conn, "insert into marts.probe values (1)")
        assert denied(conn, "create table marts.evil (x int)")
        assert denied(conn, "create table public.evil (x int)")


def test_loader_role_writes_raw_but_cannot_touch_marts(as_role):
    with as_role("loader") as conn:
        assert conn.execute("select count(*) from raw.files").fetchone() == (0,)
        assert denied(conn, "select * from marts.probe")
        assert denied(conn, "create table marts.evil (x int)")
        assert denied(conn, "select * from staging.probe")
        assert denied(conn, "create table raw.evil (x int)")


def test_components_log_in_as_postgres_user_and_act_as_their_role(world, as_role):
    for component in ("loader", "transform", "dashboard"):
        with as_role(component) as conn:
            row = conn.execute("select session_user, current_user").fetchone()
            assert row == (world.settings.pg_user, f"salespipe_{component}")


def test_reset_role_and_discard_all_keep_the_component_role(as_role):
    # The role is the session's starting value, so resetting returns to it, not to the login.
    with as_role("dashboard") as conn:
        conn.execute("reset role")
        assert conn.execute("select current_user").fetchone() == ("salespipe_dashboard",)
        conn.execute("discard all")
        assert conn.execute("select current_user").fetchone() == ("salespipe_dashboard",)
        assert denied(conn, "select * from raw.files")


def test_a_shared_login_is_no_boundary_against_set_role_none(world, as_role):
    # Why per-component logins exist: code that deliberately says SET ROLE NONE in a
    # component's session gets the login's own privileges back (README, Least privilege).
    with as_role("dashboard") as conn:
        conn.execute("set role none")
        assert conn.execute("select current_user").fetchone() == (world.settings.pg_user,)
        assert conn.execute("select count(*) from raw.files").fetchone() == (0,)


def test_a_component_with_its_own_login_cannot_leave_its_role(world, as_role):
    # On the local server the password `services up` generated (another one would lock out
    # a `salespipe run` of this checkout); on an external one, a fresh one.
    strict = with_local_logins(world.settings)
    if strict.component_login("dashboard") is None:
        strict = strict.model_copy(
            update={"POSTGRES_DASHBOARD_PASSWORD": SecretStr(f"pw-{uuid.uuid4().hex}")})
    db.migrate(strict)  # gives salespipe_dashboard LOGIN and that password
    dashboard = strict.for_component("dashboard")
    assert dashboard.pg_user == "salespipe_dashboard"
    with psycopg.connect(**dashboard.pg_connect_kwargs(), autocommit=True) as conn:
        assert conn.execute("select count(*) from marts.probe").fetchone() == (0,)
        conn.execute("set role none")
        assert conn.execute("select session_user, current_user").fetchone() == (
            "salespipe_dashboard", "salespipe_dashboard")
        assert denied(conn, "select * from raw.files")
        assert denied(conn, "set role salespipe_loader")
        assert denied(conn, f"set role {world.settings.pg_user}")


def test_transform_role_reads_raw_owns_marts_and_cannot_write_raw(as_role):
    with as_role("transform") as conn:
        assert conn.execute("select count(*) from raw.sales").fetchone() == (0,)
        conn.execute("create table marts.t_owned (x int)")
        conn.execute("drop table marts.t_owned")
        assert denied(conn, "delete from raw.files")
        assert denied(conn, "insert into raw.files (bucket, key, etag, status, received_at) "
                            "values ('b', 'k', 'e', 'loaded', now())")


def test_services_up_gives_each_local_component_a_login_of_its_own(world):
    if world.settings.external_postgres:
        pytest.skip("an external server's logins are its administrator's")
    path = logins_path()
    assert path.stat().st_mode & 0o777 == 0o600
    generated = passwords()
    for component in ("loader", "transform", "dashboard"):
        role = f"salespipe_{component}"
        with psycopg.connect(host=world.settings.pg_host, port=world.settings.pg_port,
                             dbname=world.settings.pg_db, user=role,
                             password=generated[component], autocommit=True) as conn:
            assert conn.execute("select session_user, current_user").fetchone() == (role, role)
            assert denied(conn, f"set role {world.settings.pg_user}")
    with psycopg.connect(host=world.settings.pg_host, port=world.settings.pg_port,
                         dbname=world.settings.pg_db, user="salespipe_dashboard",
                         password=generated["dashboard"], autocommit=True) as conn:
        assert denied(conn, "insert into raw.files (bucket, key, etag, status, received_at) "
                            "values ('b', 'k', 'e', 'loaded', now())")
        assert denied(conn, "create table marts.evil (x int)")
        assert denied(conn, "create table public.evil (x int)")
