"""`salespipe run` on the local services: every component's process holds its own
credentials only. Read from /proc/<pid>/environ of the running processes; then the dashboard's
credentials, exactly as its process got them, are tried against the server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cli.local.process import free_port
from tests.integration.loader_support import query
from tests.integration.test_loader_processes import SALESPIPE, wait_for
from tests.integration.test_roles import denied
from tests.integration.test_stop_signals import descendants

pytestmark = pytest.mark.integration


@pytest.fixture
def owner(world):
    """An owner login of its own with a random password, so that its password is a value
    no component may hold (the local server's default owner password is "salespipe")."""
    if world.settings.external_postgres:
        pytest.skip("the generated component logins are for the local PostgreSQL")
    name, password = f"t_owner_{uuid.uuid4().hex[:8]}", f"Owner-{uuid.uuid4().hex}"
    admin = world.settings.pg_connect_kwargs()
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} superuser login password {}").format(
            sql.Identifier(name), sql.Literal(password)))
    yield name, password
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def environ(pid: int) -> dict[str, str] | None:
    """The environment `pid` was started with (None: it has exited meanwhile)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
    return {k: v for k, _, v in pairs}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def component_of(command: str) -> str | None:
    for marker, component in ((" -m loader.dbt_worker", "dbt"), ("streamlit run", "streamlit"),
                              (" watch", "watcher"), (" load", "loader"),
                              (" dashboard", "dashboard"), (" generate", "generator")):
        if marker in command:
            return component
    return None


OWNER_ONLY = {"POSTGRES_USER", "POSTGRES_PASSWORD", "DBT_ENV_SECRET_POSTGRES_PASSWORD"}
ANY_LOGIN = {"POSTGRES_LOADER_PASSWORD", "POSTGRES_TRANSFORM_PASSWORD",
             "POSTGRES_DASHBOARD_PASSWORD"} | OWNER_ONLY


def test_each_run_component_holds_only_its_own_credentials(world, owner, tmp_path):
    owner_user, owner_password = owner
    aws_secret = f"Aws-{uuid.uuid4().hex}"  # the local S3 server accepts any key
    env = dict(world.env, POSTGRES_USER=owner_user, POSTGRES_PASSWORD=owner_password,
               DBT_ENV_SECRET_POSTGRES_PASSWORD=owner_password, AWS_SECRET_ACCESS_KEY=aws_secret)
    log = tmp_path / "run.log"
    proc = subprocess.Popen([SALESPIPE, "run", "--every", "2", "--rows", "50", "--port",
                             str(free_port())], env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Running for real: files loaded by the loader's login, marts built by dbt's.
        wait_for(lambda: proc.poll() is None and query(
            world, "select count(*) from raw.files where status = 'loaded'")[0][0] > 0
            and query(world, "select to_regclass('marts.kpi_daily_sales') is not null")[0][0],
            timeout=300)
        envs: dict[str, list[dict[str, str]]] = {}
        for pid in descendants(proc.pid):
            component, found = component_of(cmdline(pid)), environ(pid)
            if component and found is not None:
                envs.setdefault(component, []).append(found)
        assert {"watcher", "loader", "dbt", "dashboard", "streamlit"} <= set(envs), (
            sorted(envs), log.read_text()[-3000:])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    for component, found in envs.items():
        for one in found:
            assert owner_password not in "\0".join(one.values()), (
                f"{component} holds the owner's password")
            if component != "dbt":
                assert not OWNER_ONLY & set(one), (component, sorted(OWNER_ONLY & set(one)))
    for one in envs["dashboard"] + envs["streamlit"]:
        assert aws_secret not in "\0".join(one.values())
        assert not {"AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"} & set(one)
        assert ANY_LOGIN & set(one) == {"POSTGRES_DASHBOARD_PASSWORD"}
        assert one["POSTGRES_DASHBOARD_USER"] == "salespipe_dashboard"
    for one in envs["loader"]:
        assert ANY_LOGIN & set(one) == {"POSTGRES_LOADER_PASSWORD", "POSTGRES_TRANSFORM_PASSWORD"}
    for one in envs["dbt"]:  # the transform login alone, under dbt's secret name
        assert aws_secret not in "\0".join(one.values())
        assert one["POSTGRES_USER"] == "salespipe_transform"
        assert ANY_LOGIN & set(one) == {"POSTGRES_USER", "DBT_ENV_SECRET_POSTGRES_PASSWORD"}
        assert "AWS_SECRET_ACCESS_KEY" not in one
    for one in envs["watcher"]:
        assert not ANY_LOGIN & set(one)

    # The dashboard's credentials, exactly as its process got them: they read, never write.
    dashboard = envs["dashboard"][0]
    with psycopg.connect(host=dashboard["POSTGRES_HOST"], port=dashboard["POSTGRES_PORT"],
                         dbname=dashboard["POSTGRES_DB"], user=dashboard["POSTGRES_DASHBOARD_USER"],
                         password=dashboard["POSTGRES_DASHBOARD_PASSWORD"],
                         autocommit=True) as conn:
        assert conn.execute("select session_user, current_user").fetchone() == (
            "salespipe_dashboard", "salespipe_dashboard")
        conn.execute("select count(*) from marts.kpi_daily_sales").fetchone()  # reads
        assert denied(conn, "insert into marts.kpi_daily_sales (sale_date) values ('2020-01-01')")
        assert denied(conn, "delete from marts.kpi_daily_sales")
        assert denied(conn, "create table marts.evil (x int)")
        assert denied(conn, "create table public.evil (x int)")
        assert denied(conn, "select count(*) from raw.files")
        conn.execute("set role none")  # a login of its own: there is nothing else to be
        assert conn.execute("select current_user").fetchone() == ("salespipe_dashboard",)
        assert denied(conn, sql.SQL("set role {}").format(sql.Identifier(owner_user)))
        assert denied(conn, "set role salespipe_loader")
