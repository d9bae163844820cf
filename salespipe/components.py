"""Least privilege for processes: the environment each component's process starts with.

A component's process gets the environment it was started from without any of the project's
credentials, plus the variables it reads, with its own credentials only: the dashboard gets
its PostgreSQL login and the broker's address, never the owner's password, the S3 keys or
the loader's login. Used by `salespipe run` for its children and by the loader for dbt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from salespipe.settings import COMPONENT_ROLES, Settings

# Every variable of the project that holds a credential or names the identity it goes with.
CREDENTIALS = frozenset({
    "POSTGRES_USER", "POSTGRES_PASSWORD",
    *(f"POSTGRES_{c.upper()}_{k}" for c in COMPONENT_ROLES for k in ("USER", "PASSWORD")),
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "SASL_USERNAME", "SASL_PASSWORD",
    "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET",
})
# dbt reads secrets under names with this prefix (and scrubs them from its logs).
DBT_SECRET_PREFIX = "DBT_ENV_SECRET_"

# What each component's process uses: services, and the PostgreSQL logins it acts as. The
# loader runs dbt, so it holds the transform login too and hands dbt that one alone.
NEEDS: dict[str, tuple[str, ...]] = {
    "generator": ("s3",),
    "watcher": ("s3", "kafka"),
    "loader": ("s3", "kafka", "alerts", "loader", "transform"),
    "transform": ("dbt",),
    "dashboard": ("kafka", "dashboard"),  # the pipeline page reads the loader's lag
}


def _postgres_login(settings: Settings, component: str) -> dict[str, str]:
    """The variables a process needs to log in as `component`: its own login when one is
    configured, else the shared POSTGRES_USER (the fallback where only one login exists)."""
    own = settings.component_login(component)
    if own is None:
        return {"POSTGRES_USER": settings.pg_user, "POSTGRES_PASSWORD": settings.pg_password}
    user, password = own
    env = {f"POSTGRES_{component.upper()}_USER": user}
    if password is not None:
        env[f"POSTGRES_{component.upper()}_PASSWORD"] = password.get_secret_value()
    return env


def component_env(settings: Settings, component: str) -> dict[str, str]:
    """The project's variables `component` reads, resolved (services.json, `.env`), with
    its own credentials only."""
    needs = NEEDS[component]
    env: dict[str, str] = {}
    if "s3" in needs:
        env.update(AWS_ACCESS_KEY_ID=settings.s3_access_key,
                   AWS_SECRET_ACCESS_KEY=settings.s3_secret_key,
                   AWS_REGION=settings.AWS_REGION, BUCKET_NAME=settings.BUCKET_NAME)
        if settings.s3_endpoint:
            env["AWS_ENDPOINT_URL"] = settings.s3_endpoint
    if "kafka" in needs:
        env["BOOTSTRAP_SERVERS"] = settings.bootstrap_servers
        if settings.SASL_USERNAME and settings.SASL_PASSWORD is not None:
            env.update(SASL_USERNAME=settings.SASL_USERNAME,
                       SASL_PASSWORD=settings.SASL_PASSWORD.get_secret_value())
    if "alerts" in needs:
        for name in ("ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET"):
            value = getattr(settings, name)
            if value is not None:
                env[name] = value.get_secret_value()
    logins = [c for c in needs if c in COMPONENT_ROLES]
    if logins or "dbt" in needs:
        env.update(POSTGRES_HOST=settings.pg_host, POSTGRES_PORT=str(settings.pg_port),
                   POSTGRES_DB=settings.pg_db)
    for login in logins:
        env.update(_postgres_login(settings, login))
    if "dbt" in needs:
        # profiles.yml: whoever logs in acts as salespipe_transform; the password only
        # under dbt's secret name.
        dbt = settings.for_component("transform").as_env()
        env.update({name: dbt[name] for name in (
            "POSTGRES_USER", "DBT_ENV_SECRET_POSTGRES_PASSWORD", "DBT_PROFILES_DIR",
            "DBT_PROJECT_DIR")})
    return env


def component_environ(settings: Settings, component: str,
                      base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment for `component`'s process: `base` (default: this process's
    environment) without the project's credentials, plus `component_env`."""
    inherited = os.environ if base is None else base
    env = {k: v for k, v in inherited.items()
           if k not in CREDENTIALS and not k.startswith(DBT_SECRET_PREFIX)}
    env.update(component_env(settings, component))
    return env
