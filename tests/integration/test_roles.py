"""Least privilege, proven on the real server: each component's role can touch only its part."""

from __future__ import annotations

import psycopg
import pytest

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


def test_transform_role_reads_raw_owns_marts_and_cannot_write_raw(as_role):
    with as_role("transform") as conn:
        assert conn.execute("select count(*) from raw.sales").fetchone() == (0,)
        conn.execute("create table marts.t_owned (x int)")
        conn.execute("drop table marts.t_owned")
        assert denied(conn, "delete from raw.files")
        assert denied(conn, "insert into raw.files (bucket, key, etag, status, received_at) "
                            "values ('b', 'k', 'e', 'loaded', now())")
