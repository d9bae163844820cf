"""The pipeline behind a real PgBouncer, as many hosted PostgreSQL services put in front of
the server: session pooling, SCRAM, and libpq's `options` refused (PgBouncer's default).

Components with logins of their own send no `options`, so the loader, its dbt builds and the
dashboard all go through the pooler; the administrative login (migrations) goes straight to
the server, as the README says.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import uuid
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.integration.loader_support import put_and_announce, sale, to_csv
from tests.integration.managed_postgres import (
    APP,
    ROLES,
    SALESPIPE,
    managed_env,
    managed_world,
    salespipe,
)
from tests.integration.pgbouncer import start_bouncer

pytestmark = pytest.mark.integration

COMPONENT_PASSWORDS = ("POSTGRES_LOADER_PASSWORD", "POSTGRES_TRANSFORM_PASSWORD",
                       "POSTGRES_DASHBOARD_PASSWORD")


@pytest.fixture()
def pooled(base_settings, pg15):
    """(env through PgBouncer, the app login, the bouncer): the roles are logins with
    passwords of their own, set up by `services up` over a direct connection."""
    cluster = pg15()
    login = cluster.app_login()
    passwords = {name: f"pw-{uuid.uuid4().hex}" for name in COMPONENT_PASSWORDS}
    direct = {**managed_env(base_settings, login, f"t-bouncer-{uuid.uuid4().hex[:8]}"),
              **passwords}
    up = salespipe(direct, "services", "up")
    assert up.returncode == 0, up.stderr
    logins = dict(zip(ROLES, (passwords[name] for name in COMPONENT_PASSWORDS), strict=True))
    bouncer = start_bouncer(cluster.port, login.dbname, {**logins, login.user: login.password},
                            cluster.run_as)
    try:
        yield {**direct, "POSTGRES_PORT": str(bouncer.port)}, login, bouncer
    finally:
        bouncer.stop()


def test_loader_dbt_and_dashboard_with_their_own_logins_run_through_pgbouncer(
        pooled, monkeypatch):
    env, login, bouncer = pooled
    world = managed_world(env)
    rows = [sale("B1", day="2026-05-02", qty=2, price="50.00", discount="10"),
            sale("B2", day="2026-05-02", qty=1, price="20.00", discount="0")]
    put_and_announce(world, "incoming/pooled.csv", to_csv(rows))
    load = subprocess.run(
        [SALESPIPE, "load", "--group", f"g-{world.files_topic}", "--files-topic",
         world.files_topic, "--dlq-topic", world.dlq_topic, "--loads-topic", world.loads_topic,
         "--exit-when-idle", "5"], env=env, capture_output=True, text=True, timeout=600)
    assert load.returncode == 0, load.stderr[-3000:]
    assert "event=file_loaded" in load.stderr and "success=True" in load.stderr, load.stderr

    # Worked out by hand: 2 x 50.00 - 10% = 90.00, plus 20.00.
    with login.connect() as conn:
        assert conn.execute("select sale_date, total_sales, transactions from "
                            "marts.kpi_daily_sales").fetchall() == [
            (dt.date(2026, 5, 2), Decimal("110.00"), 2)]

    # The dashboard as it runs, pointed at the pooler with its own login.
    for name in [k for k in os.environ if k.startswith(("POSTGRES_", "DBT_"))]:
        monkeypatch.delenv(name)
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD",
                 "POSTGRES_DB", "POSTGRES_DASHBOARD_PASSWORD"):
        monkeypatch.setenv(name, env[name])
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric if m.label == "Total sales"] == ["R$ 110.00"]

    # Every component logged in to the pooler as its own role.
    logins = {role for role in ROLES if f"user={role}" in bouncer.log}
    assert logins == set(ROLES), bouncer.log[-3000:]


def test_dashboard_sessions_through_pgbouncer_only_read_and_time_out(pooled):
    from dashboard.data import create_read_engine
    from salespipe.settings import load_settings

    env, _login, _bouncer = pooled
    settings = load_settings(**{k: env[k] for k in (
        "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
        "POSTGRES_DASHBOARD_PASSWORD")}).for_component("dashboard")
    engine = create_read_engine(settings)
    try:
        for _ in range(2):  # a new session, then one the pool hands out again
            with engine.connect() as conn:
                assert conn.execute(text("select current_user")).scalar() == "salespipe_dashboard"
                assert conn.execute(text("show statement_timeout")).scalar() == "15s"
                with pytest.raises(sqlalchemy.exc.InternalError) as refused:
                    conn.execute(text("create temporary table scratch (i int)"))
                assert isinstance(refused.value.orig, psycopg.errors.ReadOnlySqlTransaction)
    finally:
        engine.dispose()


def test_shared_login_through_pgbouncer_stops_with_one_line_naming_the_fix(pooled):
    """Without logins of their own the components act as their roles through libpq
    `options`, which PgBouncer refuses: one line says what to set instead."""
    env, _login, _bouncer = pooled
    shared = {k: v for k, v in env.items() if k not in COMPONENT_PASSWORDS}

    load = salespipe(shared, "load", "--exit-when-idle", "1", timeout=120)

    assert load.returncode == 1
    lines = [ln for ln in load.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "options" in lines[0], load.stderr
    assert "POSTGRES_LOADER_PASSWORD" in lines[0], lines
