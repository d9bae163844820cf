"""The one place configuration is read: environment variables, then `.env`, then local services.

Variable names are the public contract (README, Configuration). When a service is not configured
externally, its address comes from `.salespipe/services.json`, written by
`salespipe services up`, so two checkouts on one machine never collide.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The pipeline's names live in the contract; re-exported for modules importing them from here.
from salespipe.contract import (  # noqa: F401
    CONSUMER_GROUP,
    INCOMING_PREFIX,
    TOPIC_DLQ,
    TOPIC_FILES,
    TOPIC_LOADS,
)

STATE_DIR_NAME = ".salespipe"
SERVICES_FILE = "services.json"

LOCAL_S3_ACCESS_KEY = "salespipe-local"
LOCAL_S3_SECRET_KEY = "salespipe-local-secret"  # noqa: S105 - moto accepts any key; not a secret
LOCAL_PG_USER = "salespipe"
LOCAL_PG_PASSWORD = "salespipe"  # noqa: S105 - local embedded server only
LOCAL_PG_DB = "salespipe"
_LOOPBACK = ("127.0.0.1", "localhost")

# Least privilege: the role each component acts as (created by `salespipe migrate`).
COMPONENT_ROLES = {
    "loader": "salespipe_loader",
    "transform": "salespipe_transform",
    "dashboard": "salespipe_dashboard",
}


def project_root() -> Path:
    """The checkout root: where `pyproject.toml` lives (falls back to the working directory)."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def state_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / STATE_DIR_NAME


def read_services_state(root: Path | None = None) -> dict[str, Any]:
    path = state_dir(root) / SERVICES_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


class Settings(BaseSettings):
    """Runtime configuration. Secrets are `SecretStr` so they never print by accident."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    AWS_ACCESS_KEY_ID: str | None = None
    AWS_SECRET_ACCESS_KEY: SecretStr | None = None
    AWS_REGION: str = "us-east-1"
    AWS_ENDPOINT_URL: str | None = None
    BUCKET_NAME: str = "sales-reports"

    POSTGRES_USER: str | None = None
    POSTGRES_PASSWORD: SecretStr | None = None
    POSTGRES_HOST: str | None = None
    POSTGRES_PORT: int | None = None
    POSTGRES_DB: str | None = None

    BOOTSTRAP_SERVERS: str | None = None
    SASL_USERNAME: str | None = None
    SASL_PASSWORD: SecretStr | None = None
    SASL_MECHANISM: str = "PLAIN"
    CLIENT_ID: str = "salespipe"
    # PEM file of the CA that signed the broker's certificate (librdkafka `ssl.ca.location`);
    # hosted services use public CAs, so this is only for private or self-signed brokers.
    KAFKA_SSL_CA_LOCATION: str | None = None
    # Topics `services up` creates: partitions of sales.files (how many loaders can share it),
    # and the replication factor; -1 takes the broker's default (3 on Confluent Cloud and MSK).
    KAFKA_TOPIC_PARTITIONS: int = Field(default=6, ge=1)
    KAFKA_REPLICATION_FACTOR: int = Field(default=-1, ge=-1, le=32767)

    # Per-component logins (optional). Unset, a component logs in as POSTGRES_USER and acts
    # as its role (COMPONENT_ROLES); see `for_component`.
    POSTGRES_LOADER_USER: str | None = None
    POSTGRES_LOADER_PASSWORD: SecretStr | None = None
    POSTGRES_TRANSFORM_USER: str | None = None
    POSTGRES_TRANSFORM_PASSWORD: SecretStr | None = None
    POSTGRES_DASHBOARD_USER: str | None = None
    POSTGRES_DASHBOARD_PASSWORD: SecretStr | None = None

    DASHBOARD_REFRESH_SECONDS: float = Field(default=5.0, gt=0)
    # Streamlit's own variable: `salespipe dashboard` listens there when --port is not given.
    STREAMLIT_SERVER_PORT: int | None = Field(default=None, gt=0, lt=65536)
    DBT_PROJECT_DIR: str | None = None
    # Log lines: logfmt, or one JSON object per line (`--log-format` wins over this).
    LOG_FORMAT: Literal["logfmt", "json"] = "logfmt"

    # The role a connection switches to at login (`for_component`); not read from the
    # environment.
    _pg_role: str | None = PrivateAttr(default=None)

    @field_validator("KAFKA_REPLICATION_FACTOR")
    @classmethod
    def _replication_factor(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must be -1 (the broker's default) or at least 1")
        return value

    # The terminal's locale, POSIX precedence (LC_ALL, then LC_MESSAGES, then LANG): command
    # output meant for people (`salespipe check`) is in Brazilian Portuguese for pt_BR.
    LC_ALL: str | None = None
    LC_MESSAGES: str | None = None
    LANG: str | None = None

    @property
    def messages_language(self) -> str:
        """"pt-BR" or "en" (the dashboard's language codes)."""
        locale = next((v for v in (self.LC_ALL, self.LC_MESSAGES, self.LANG) if v), "")
        return "pt-BR" if locale.replace("-", "_").lower().startswith("pt_br") else "en"

    # Operator alerts (loader/alerts.py). The webhook URL itself is a credential (Slack's is).
    ALERT_WEBHOOK_URL: SecretStr | None = None
    ALERT_WEBHOOK_SECRET: SecretStr | None = None
    ALERT_WEBHOOK_SECRET_HEADER: str = "X-Salespipe-Token"
    ALERT_WEBHOOK_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    ALERT_REJECTED_ROWS_PCT: float = Field(default=5.0, ge=0, le=100)
    ALERT_FRESHNESS_MINUTES: float | None = Field(default=None, gt=0)
    ALERT_DBT_FAILED_BUILDS: int = Field(default=2, ge=1)
    ALERT_MAX_PER_HOUR: int = Field(default=20, ge=1)

    # What happens to an object after its load committed (loader/tidy.py). `move` keeps
    # incoming/ an inbox of pending files, which is what lets the watcher list all of it.
    S3_AFTER_LOAD: Literal["tag", "move", "none"] = "move"

    # What one file may cost the loader (loader/limits.py has the why of each default).
    LOADER_MAX_UNPACKED_BYTES: int = Field(default=4 << 30, gt=0)
    LOADER_MAX_ROWS: int = Field(default=20_000_000, gt=0)
    LOADER_MAX_SHEET_CELLS: int = Field(default=6_000_000, gt=0)
    LOADER_MAX_FIELD_BYTES: int = Field(default=64 << 10, gt=0)
    LOADER_MAX_RECORD_BYTES: int = Field(default=1 << 20, gt=0)
    LOADER_MAX_READER_MEMORY_BYTES: int = Field(default=2 << 30, gt=0)
    # A message whose file stopped the loader process this many times goes to the DLQ.
    LOADER_MAX_CRASHES: int = Field(default=3, ge=1)
    # Where the loader keeps downloads and unpacked files: one subdirectory per process,
    # removed after each file; leftovers of dead processes are swept at start.
    LOADER_SCRATCH_DIR: str | None = None

    # --- which services are external -------------------------------------------------
    # An address equal to the one `services up` recorded is still local: that is what
    # `eval "$(salespipe env)"` exports, and it must not turn the local services "external".
    @property
    def external_postgres(self) -> bool:
        if self.POSTGRES_HOST is None:
            return False
        local_port = self._local("postgres").get("port")
        return not (
            self.POSTGRES_HOST in _LOOPBACK and local_port and self.POSTGRES_PORT == local_port
        )

    @property
    def external_s3(self) -> bool:
        if self.AWS_ENDPOINT_URL is not None:
            port = self._local("s3").get("port")
            return self.AWS_ENDPOINT_URL.rstrip("/") not in {
                f"http://{h}:{port}" for h in _LOOPBACK
            }
        # Real AWS when credentials are given without an endpoint.
        return self.AWS_ACCESS_KEY_ID is not None and self.AWS_ACCESS_KEY_ID != LOCAL_S3_ACCESS_KEY

    @property
    def external_kafka(self) -> bool:
        if self.BOOTSTRAP_SERVERS is None:
            return False
        port = self._local("kafka").get("port")
        return self.BOOTSTRAP_SERVERS not in {f"{h}:{port}" for h in _LOOPBACK}

    # --- resolved addresses (env first, then local services) ---------------------------
    def _local(self, service: str) -> dict[str, Any]:
        return read_services_state().get(service, {})

    @property
    def pg_host(self) -> str:
        return self.POSTGRES_HOST or "127.0.0.1"

    @property
    def pg_port(self) -> int:
        if self.POSTGRES_PORT is not None:
            return self.POSTGRES_PORT
        return int(self._local("postgres").get("port", 5432))

    @property
    def pg_user(self) -> str:
        return self.POSTGRES_USER or LOCAL_PG_USER

    @property
    def pg_password(self) -> str:
        if self.POSTGRES_PASSWORD is not None:
            return self.POSTGRES_PASSWORD.get_secret_value()
        if not self.external_postgres and self.pg_user == LOCAL_PG_USER:
            return LOCAL_PG_PASSWORD  # the embedded server's login, created by `services up`
        return ""

    @property
    def pg_role(self) -> str | None:
        """The component role this connection acts as (None: the login's own privileges)."""
        return self._pg_role

    @property
    def pg_db(self) -> str:
        return self.POSTGRES_DB or LOCAL_PG_DB

    @property
    def s3_endpoint(self) -> str | None:
        if self.AWS_ENDPOINT_URL:
            return self.AWS_ENDPOINT_URL
        if self.external_s3:
            return None  # real AWS
        port = self._local("s3").get("port")
        return f"http://127.0.0.1:{port}" if port else None

    @property
    def s3_access_key(self) -> str:
        return self.AWS_ACCESS_KEY_ID or LOCAL_S3_ACCESS_KEY

    @property
    def s3_secret_key(self) -> str:
        if self.AWS_SECRET_ACCESS_KEY is not None:
            return self.AWS_SECRET_ACCESS_KEY.get_secret_value()
        return LOCAL_S3_SECRET_KEY

    @property
    def bootstrap_servers(self) -> str:
        if self.BOOTSTRAP_SERVERS:
            return self.BOOTSTRAP_SERVERS
        port = self._local("kafka").get("port")
        return f"127.0.0.1:{port}" if port else "127.0.0.1:9092"

    def component_login(self, component: str) -> tuple[str, SecretStr | None] | None:
        """A component's own login, when one is configured: (user, password); else None.

        A password alone is a login as the component's role itself (the migration gives
        the role that password); a user is a login managed outside the project, granted
        the role by the migration."""
        user: str | None = getattr(self, f"POSTGRES_{component.upper()}_USER")
        password: SecretStr | None = getattr(self, f"POSTGRES_{component.upper()}_PASSWORD")
        if user is None and password is None:
            return None
        return user or COMPONENT_ROLES[component], password

    def for_component(self, component: str) -> Settings:
        """The same settings, connecting as the component: with its own login if configured,
        else with POSTGRES_USER; either way the session acts as the component's role from
        login on (libpq `options=-c role=...`), so every statement is checked against the
        role's privileges only."""
        own = self.component_login(component)
        update: dict[str, Any] = {}
        if own is not None:
            user, password = own
            # No password: "" rather than the local default of POSTGRES_USER.
            update = {"POSTGRES_USER": user, "POSTGRES_PASSWORD": password or SecretStr("")}
        scoped = self.model_copy(update=update)
        scoped._pg_role = COMPONENT_ROLES[component]
        return scoped

    def as_env(self) -> dict[str, str]:
        """The resolved connection settings as environment variables, for child processes
        (dbt, psql, the CLI in a test) and for `salespipe env`. dbt reads the password
        under a `DBT_ENV_SECRET_` name, which dbt scrubs from its logs; the two dbt paths
        let a plain `dbt build` run from any directory."""
        root = project_root()
        values = {
            "POSTGRES_HOST": self.pg_host,
            "POSTGRES_PORT": str(self.pg_port),
            "POSTGRES_USER": self.pg_user,
            "POSTGRES_PASSWORD": self.pg_password,
            "DBT_ENV_SECRET_POSTGRES_PASSWORD": self.pg_password,
            "POSTGRES_DB": self.pg_db,
            "DBT_PROFILES_DIR": str(root),
            "DBT_PROJECT_DIR": str(Path(self.DBT_PROJECT_DIR or root / "dbt_sales").resolve()),
            "BUCKET_NAME": self.BUCKET_NAME,
            "AWS_REGION": self.AWS_REGION,
            "AWS_ACCESS_KEY_ID": self.s3_access_key,
            "AWS_SECRET_ACCESS_KEY": self.s3_secret_key,
            "BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "DO_NOT_TRACK": "1",
        }
        if self.s3_endpoint:
            values["AWS_ENDPOINT_URL"] = self.s3_endpoint
        return values

    def pg_connect_kwargs(self, *, dbname: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "host": self.pg_host,
            "port": self.pg_port,
            "dbname": dbname or self.pg_db,
            "user": self.pg_user,
            "password": self.pg_password,
        }
        if self.pg_options:
            kwargs["options"] = self.pg_options
        return kwargs

    @property
    def pg_options(self) -> str:
        """libpq `options` that make the session act as the component role from login on.
        Set at startup, the role is also what `RESET ROLE` and `DISCARD ALL` return to. A
        login that is the role itself needs none, so it passes poolers that refuse the
        `options` startup parameter (pgbouncer's default)."""
        if not self._pg_role or self._pg_role == self.pg_user:
            return ""
        return f"-c role={self._pg_role}"

    def sqlalchemy_url(self) -> Any:
        from sqlalchemy import URL

        return URL.create(
            "postgresql+psycopg",
            username=self.pg_user,
            password=self.pg_password,
            host=self.pg_host,
            port=self.pg_port,
            database=self.pg_db,
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once, at an entry point; pass the object down from there."""
    return Settings(**overrides)
