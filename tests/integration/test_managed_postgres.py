"""An existing PostgreSQL as the README describes it: only the five POSTGRES_* variables.

The servers here are set up like managed ones (scram over TCP, the login is not a superuser,
owns its database, has CREATEROLE): Debian's PostgreSQL 15, and the embedded PostgreSQL 18
binaries in a cluster of their own for the rules of 16+ (a creator holds ADMIN OPTION on
the roles it creates, but may not SET ROLE to them until it grants itself the role).
S3 and Kafka are the local ones.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import uuid
from decimal import Decimal

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.integration.loader_support import put_and_announce, sale, to_csv
from tests.integration.managed_postgres import (
    APP,
    BIN,
    ROLES,
    SALESPIPE,
    managed_env,
    managed_world,
    salespipe,
)

pytestmark = pytest.mark.integration


def test_five_variables_run_the_whole_pipeline_on_a_managed_postgres_15(
        base_settings, pg15, tmp_path, monkeypatch):
    cluster = pg15()
    login = cluster.app_login()
    env = managed_env(base_settings, login, f"t-managed-{uuid.uuid4().hex[:8]}")

    up = salespipe(env, "services", "up")
    assert up.returncode == 0, up.stderr
    assert "postgres" not in up.stdout  # external: nothing started locally for it

    # The real loader on a file, with its real `dbt build`, as the components' roles.
    world = managed_world(env)
    day = "2026-04-10"
    rows = [sale("M1", day=day, qty=2, price="100.00", discount="10"),
            sale("M2", day=day, qty=1, price="59.90", discount="0"),
            sale("M3", day=day, qty=3, price="10.00", discount="0", status="Canceled")]
    put_and_announce(world, "incoming/managed.csv", to_csv(rows))
    load = subprocess.run(
        [SALESPIPE, "load", "--group", f"g-{world.files_topic}", "--files-topic",
         world.files_topic, "--dlq-topic", world.dlq_topic, "--loads-topic", world.loads_topic,
         "--exit-when-idle", "5"], env=env, capture_output=True, text=True, timeout=600)
    assert load.returncode == 0, load.stderr[-3000:]
    assert "event=file_loaded" in load.stderr and "success=True" in load.stderr, load.stderr

    # Worked out by hand: 2 x 100.00 - 10% = 180.00; 1 x 59.90; the canceled sale counts not.
    expected = (dt.date(2026, 4, 10), Decimal("239.90"), 2, Decimal("119.95"), 3)
    with login.connect() as conn:
        assert conn.execute("select sale_date, total_sales, transactions, avg_ticket, "
                            "units_sold from marts.kpi_daily_sales").fetchall() == [expected]
        owners = conn.execute("select tableowner from pg_tables where schemaname = 'marts' "
                              "group by 1").fetchall()
        loaded_by = conn.execute("select rows_valid from raw.files").fetchall()
    assert owners == [("salespipe_transform",)]
    assert loaded_by == [(3,)]

    # An analyst: plain `dbt build` from elsewhere after `eval "$(salespipe env)"`. dbt
    # knows the password is a secret: with --debug it logs its invocation, and the
    # password passed there as a var comes out scrubbed; it is nowhere in dbt's logs and
    # output (the run's artifacts in target/ record the var as given, by design).
    analyst = subprocess.run(
        ["bash", "-c", f'eval "$({SALESPIPE} env)" && cd {tmp_path} && {BIN / "dbt"} --debug '
                       'build --exclude test_type:unit --vars "{echo: $POSTGRES_PASSWORD}"'],
        env={**env, "DBT_TARGET_PATH": str(tmp_path / "target"),
             "DBT_LOG_PATH": str(tmp_path / "logs")},
        capture_output=True, text=True, timeout=600)
    assert analyst.returncode == 0, analyst.stdout[-3000:] + analyst.stderr
    written = {str(p): p.read_bytes().decode("utf-8", "replace")
               for p in (tmp_path / "logs").rglob("*") if p.is_file()}
    written["dbt output"] = analyst.stdout + analyst.stderr
    dbt_log = written[str(tmp_path / "logs" / "dbt.log")]
    assert "kpi_daily_sales" in dbt_log and "--vars {echo: *****}" in dbt_log
    for where, text in written.items():
        assert login.password not in text, f"the database password leaked into {where}"

    # The dashboard, as it runs: AppTest with the same five variables.
    for name in [k for k in os.environ if k.startswith(("POSTGRES_", "DBT_"))]:
        monkeypatch.delenv(name)
    for name, value in login.env().items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric if m.label == "Total sales"] == ["R$ 239.90"]


def test_postgres_18_login_with_createrole_acts_as_the_roles_it_creates(base_settings, pg18):
    cluster = pg18()
    assert cluster.version() >= 160000
    login = cluster.app_login()
    env = managed_env(base_settings, login, f"t-managed-{uuid.uuid4().hex[:8]}")

    migrate = salespipe(env, "migrate")
    assert migrate.returncode == 0, migrate.stderr

    settings = managed_world(env).settings
    for component, role in zip(("loader", "transform", "dashboard"), ROLES, strict=True):
        scoped = settings.for_component(component)
        with psycopg.connect(**scoped.pg_connect_kwargs(), autocommit=True) as conn:
            assert conn.execute("select session_user, current_user").fetchone() == ("app", role)
            if component == "dashboard":
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("select * from raw.files")
    with cluster.superuser() as conn:
        logins = conn.execute("select rolname from pg_roles where rolcanlogin and rolname = "
                              "any(%s)", (list(ROLES),)).fetchall()
    assert logins == []  # the roles are not logins: only POSTGRES_USER logs in


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.strip()]


def test_services_up_without_createrole_names_the_fix_in_one_line(base_settings, pg15):
    cluster = pg15()
    login = cluster.app_login("plain", createrole=False)
    env = managed_env(base_settings, login, f"t-managed-{uuid.uuid4().hex[:8]}")

    up = salespipe(env, "services", "up")

    assert up.returncode == 1
    assert error_lines(up) == [
        "salespipe services: error: the login 'plain' may not create roles: grant it "
        "CREATEROLE (ALTER ROLE plain CREATEROLE), or have an administrator create the roles "
        "salespipe_loader, salespipe_transform, salespipe_dashboard and GRANT them TO plain"]


def test_without_createrole_roles_an_administrator_granted_are_enough(base_settings, pg15):
    cluster = pg15()
    login = cluster.app_login("plain", createrole=False)
    env = managed_env(base_settings, login, f"t-managed-{uuid.uuid4().hex[:8]}")
    with cluster.superuser() as conn:
        for role in ROLES:
            conn.execute(f"create role {role} nologin")
    up = salespipe(env, "services", "up")
    assert up.returncode == 1
    assert error_lines(up) == [
        "salespipe services: error: the login 'plain' may not act as the existing role "
        "salespipe_loader: have an administrator GRANT salespipe_loader TO plain (or whoever "
        "created the role)"]

    with cluster.superuser() as conn:
        conn.execute(f"grant {', '.join(ROLES)} to plain")
    up = salespipe(env, "services", "up")
    assert up.returncode == 0, up.stderr
    dashboard = managed_world(env).settings.for_component("dashboard")
    with psycopg.connect(**dashboard.pg_connect_kwargs(), autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == ("salespipe_dashboard",)


def test_loader_before_the_roles_exist_says_to_migrate_in_one_line(base_settings, pg15):
    cluster = pg15()
    login = cluster.app_login()
    env = managed_env(base_settings, login, f"t-managed-{uuid.uuid4().hex[:8]}")

    load = salespipe(env, "load", "--exit-when-idle", "1", timeout=120)

    assert load.returncode == 1
    assert error_lines(load) == [
        "salespipe load: error: the login 'app' cannot act as salespipe_loader (role "
        "\"salespipe_loader\" does not exist): run `salespipe migrate` (or `salespipe services "
        "up`) first, which creates the roles and grants them to POSTGRES_USER"]
