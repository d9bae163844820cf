"""PostgreSQL connections and the project's own migrations (plain SQL files, applied in order)."""

from __future__ import annotations

from importlib import resources

import psycopg

from salespipe.settings import Settings

# Serializes migrations across processes (loader replicas starting together).
_MIGRATION_LOCK_ID = 0x5A1E5_0001


def connect(settings: Settings, *, dbname: str | None = None, autocommit: bool = False,
            application_name: str = "salespipe") -> psycopg.Connection:
    return psycopg.connect(
        **settings.pg_connect_kwargs(dbname=dbname),
        autocommit=autocommit,
        application_name=application_name,
        connect_timeout=10,
    )


def migration_sql() -> list[tuple[str, str]]:
    files = sorted(
        (p for p in resources.files("salespipe.migrations").iterdir() if p.name.endswith(".sql")),
        key=lambda p: p.name,
    )
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def migrate(settings: Settings) -> list[str]:
    """Apply every migration idempotently; returns the names applied."""
    applied: list[str] = []
    with connect(settings) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK_ID,))
        try:
            for name, sql in migration_sql():
                conn.execute(sql)  # type: ignore[arg-type]  # trusted file shipped in the package
                applied.append(name)
            set_role_passwords(conn, settings)
            conn.commit()
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK_ID,))
            conn.commit()
    return applied


COMPONENTS = ("loader", "transform", "dashboard")


class SchemaMissing(RuntimeError):
    """The raw schema is not there (or not visible to this role): migrations have not run."""


def check_schema(settings: Settings) -> None:
    with connect(settings, autocommit=True) as conn:
        found = conn.execute("select to_regclass('raw.files') is not null").fetchone()
    if not found or not found[0]:
        raise SchemaMissing(
            f"raw.files not found in database {settings.pg_db!r} for user {settings.pg_user!r}: "
            "run `salespipe migrate` (or `salespipe services up`) as the administrative user"
        )


def set_role_passwords(conn: psycopg.Connection, settings: Settings) -> None:
    """Give each component role its configured password (roles without one are left alone).

    ALTER ROLE takes no bind parameters, so the value is quoted by psycopg's `sql.Literal`
    (server-side escaping rules), never pasted with string formatting.
    """
    from psycopg import sql

    for component in COMPONENTS:
        user, password = settings.component_credentials(component)
        if password is None:
            continue
        conn.execute(sql.SQL("alter role {} with login password {}").format(
            sql.Identifier(user), sql.Literal(password.get_secret_value())))


def ensure_database(settings: Settings, dbname: str) -> None:
    """Create a database if missing (tests use one per suite; local defaults use `salespipe`)."""
    from psycopg import sql

    with connect(settings, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def drop_database(settings: Settings, dbname: str) -> None:
    """Drop a scratch database (the benchmark's worlds), disconnecting whoever is still on it."""
    from psycopg import sql

    with connect(settings, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(dbname)))
