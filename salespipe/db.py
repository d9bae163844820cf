"""PostgreSQL connections and the project's own migrations (plain SQL files, applied in order)."""

from __future__ import annotations

from importlib import resources

import psycopg

from salespipe.errors import UserError
from salespipe.settings import COMPONENT_ROLES, Settings

# Serializes migrations across processes (loader replicas starting together).
_MIGRATION_LOCK_ID = 0x5A1E5_0001


def connect(settings: Settings, *, dbname: str | None = None, autocommit: bool = False,
            application_name: str = "salespipe") -> psycopg.Connection:
    try:
        return psycopg.connect(
            **settings.pg_connect_kwargs(dbname=dbname),
            autocommit=autocommit,
            application_name=application_name,
            connect_timeout=10,
        )
    except psycopg.OperationalError as exc:
        role = settings.pg_role
        if settings.pg_options and "unsupported startup parameter" in str(exc):
            component = next(c for c, r in COMPONENT_ROLES.items() if r == role)
            raise OptionsRefused(
                f"{settings.pg_host}:{settings.pg_port} refused libpq `options` (a pooler "
                f"such as PgBouncer?), which the shared login {settings.pg_user!r} needs to act "
                f"as {role}: give it a login of its own (POSTGRES_{component.upper()}_PASSWORD) "
                "or connect to PostgreSQL itself") from exc
        # The server refuses the session's role at login: missing, or not granted.
        if role and f'role "{role}"' in str(exc):
            reason = str(exc).rsplit("FATAL:", 1)[-1].strip()
            raise RolesUnavailable(
                f"the login {settings.pg_user!r} cannot act as {role} ({reason}): run "
                "`salespipe migrate` (or `salespipe services up`) first, which creates the "
                "roles and grants them to POSTGRES_USER") from exc
        raise


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
            ensure_roles(conn, settings)
            for name, sql in migration_sql():
                conn.execute(sql)  # type: ignore[arg-type]  # trusted file shipped in the package
                applied.append(name)
            conn.commit()
        finally:
            if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                conn.rollback()  # a failed migration: the unlock below must still run
            conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK_ID,))
            conn.commit()
    return applied


COMPONENTS = tuple(COMPONENT_ROLES)


class OptionsRefused(UserError):
    """A pooler in front of PostgreSQL refuses the startup parameter a shared login needs."""


class SchemaMissing(UserError):
    """The raw schema is not there (or not visible to this role): migrations have not run."""


class RolesUnavailable(UserError):
    """The login may not create or grant the component roles: one line saying what to do."""


def check_schema(settings: Settings) -> None:
    with connect(settings, autocommit=True) as conn:
        found = conn.execute("select to_regclass('raw.files') is not null").fetchone()
    if not found or not found[0]:
        raise SchemaMissing(
            f"raw.files not found in database {settings.pg_db!r} for user {settings.pg_user!r}: "
            "run `salespipe migrate` (or `salespipe services up`) as the administrative user"
        )


def ensure_roles(conn: psycopg.Connection, settings: Settings) -> None:
    """Create the component roles where missing and let POSTGRES_USER act as each of them.

    Works for a superuser and for the managed-server case, a login with CREATEROLE that owns
    its database: PostgreSQL 15 lets CREATEROLE grant any non-superuser role; from 16 on the
    creator of a role holds only ADMIN OPTION on it (`createrole_self_grant` is empty by
    default), so the login grants itself the membership SET ROLE needs. A role that exists
    and is already granted needs nothing, so an administrator may instead create the roles
    and grant them to the login beforehand. Components with their own login
    (POSTGRES_<COMPONENT>_USER / _PASSWORD) get it here too: a password alone is set on the
    project's role (with LOGIN); a user of your own is granted the role.
    """
    from psycopg import sql

    me = conn.execute("select current_user").fetchone()[0]  # type: ignore[index]
    # From PostgreSQL 16 membership alone does not allow SET ROLE; the SET option does.
    can_act_as = "SET" if conn.info.server_version >= 160000 else "MEMBER"
    roles = ", ".join(COMPONENT_ROLES.values())

    def act(statement: sql.Composable, cannot: str, remedy: str) -> None:
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RolesUnavailable(f"the login {me!r} may not {cannot}: {remedy}") from exc

    def member(user: str, role: str) -> bool:
        row = conn.execute("select pg_has_role(%s, %s, %s)", (user, role, can_act_as)).fetchone()
        return bool(row and row[0])

    def exists(role: str) -> bool:
        return conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() \
            is not None

    for component, role in COMPONENT_ROLES.items():
        if not exists(role):
            try:
                with conn.transaction():  # a savepoint: another database's migration may win
                    act(sql.SQL("create role {} nologin").format(sql.Identifier(role)),
                        "create roles",
                        f"grant it CREATEROLE (ALTER ROLE {me} CREATEROLE), or have an "
                        f"administrator create the roles {roles} and GRANT them TO {me}")
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                pass  # created meanwhile by a migration of another database on the cluster
        if not member(me, role):
            act(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(me)),
                f"act as the existing role {role}",
                f"have an administrator GRANT {role} TO {me} (or whoever created the role)")
        if settings.component_login(component) is None:
            continue
        user = getattr(settings, f"POSTGRES_{component.upper()}_USER")
        password = getattr(settings, f"POSTGRES_{component.upper()}_PASSWORD")
        if user is None and password is not None:
            # ALTER ROLE takes no bind parameters: the value is quoted by psycopg's
            # `sql.Literal` (server-side escaping rules), never pasted with formatting.
            act(sql.SQL("alter role {} with login password {}").format(
                sql.Identifier(role), sql.Literal(password.get_secret_value())),
                f"set the password of the role {role}",
                f"have an administrator run ALTER ROLE {role} LOGIN PASSWORD '...' and set "
                f"POSTGRES_{component.upper()}_USER={role} as well (then it is left alone)")
        elif user is not None and user != role and not member(user, role):
            if not exists(user):
                raise RolesUnavailable(
                    f"POSTGRES_{component.upper()}_USER={user} does not exist: create that "
                    f"login (CREATE ROLE {user} LOGIN PASSWORD '...'), or unset it")
            act(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(user)),
                f"grant the role {role} to {user}",
                f"have an administrator GRANT {role} TO {user}")


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
