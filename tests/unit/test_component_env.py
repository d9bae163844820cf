"""Which variables each component's process is started with: its own credentials only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cli.local.logins import passwords
from salespipe.components import CREDENTIALS, component_env, component_environ
from salespipe.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

EVERYTHING = {
    "POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "6432", "POSTGRES_DB": "sales",
    "POSTGRES_USER": "owner", "POSTGRES_PASSWORD": "owner-Secret-1",
    "POSTGRES_LOADER_PASSWORD": "loader-Secret-2",
    "POSTGRES_TRANSFORM_USER": "etl", "POSTGRES_TRANSFORM_PASSWORD": "etl-Secret-3",
    "POSTGRES_DASHBOARD_PASSWORD": "dash-Secret-4",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "aws-Secret-5",
    "AWS_ENDPOINT_URL": "http://s3.example.com:9000", "AWS_REGION": "sa-east-1",
    "BUCKET_NAME": "reports",
    "BOOTSTRAP_SERVERS": "kafka.example.com:9092", "SASL_USERNAME": "app",
    "SASL_PASSWORD": "sasl-Secret-6",
    "ALERT_WEBHOOK_URL": "https://hooks.example.com/Secret-7",
    "ALERT_WEBHOOK_SECRET": "hook-Secret-8",
}
SECRETS = ["owner-Secret-1", "loader-Secret-2", "etl-Secret-3", "dash-Secret-4", "aws-Secret-5",
           "sasl-Secret-6", "hooks.example.com/Secret-7", "hook-Secret-8"]


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No project variable from the outside, no `.env` from the checkout."""
    for name in [*Settings.model_fields, "DBT_PROFILES_DIR", "DBT_ENV_SECRET_POSTGRES_PASSWORD"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def settings_from(clean, values: dict[str, str]) -> Settings:
    for name, value in values.items():
        clean.setenv(name, value)
    return Settings()


def test_the_dashboard_gets_its_own_login_and_the_broker_nothing_else(clean):
    env = component_env(settings_from(clean, EVERYTHING), "dashboard")
    assert env == {
        "POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "6432", "POSTGRES_DB": "sales",
        "POSTGRES_DASHBOARD_USER": "salespipe_dashboard",
        "POSTGRES_DASHBOARD_PASSWORD": "dash-Secret-4",
        # The pipeline page reads the loader's lag on the broker.
        "BOOTSTRAP_SERVERS": "kafka.example.com:9092", "SASL_USERNAME": "app",
        "SASL_PASSWORD": "sasl-Secret-6",
    }


def test_the_dashboard_process_environment_drops_every_inherited_credential(clean):
    settings = settings_from(clean, EVERYTHING)
    inherited = {"PATH": "/usr/bin", "LANG": "pt_BR.UTF-8", "DASHBOARD_REFRESH_SECONDS": "2",
                 "DBT_ENV_SECRET_POSTGRES_PASSWORD": "owner-Secret-1", **EVERYTHING}

    env = component_environ(settings, "dashboard", inherited)

    assert env == {
        "PATH": "/usr/bin", "LANG": "pt_BR.UTF-8", "DASHBOARD_REFRESH_SECONDS": "2",
        "POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "6432", "POSTGRES_DB": "sales",
        "POSTGRES_DASHBOARD_USER": "salespipe_dashboard",
        "POSTGRES_DASHBOARD_PASSWORD": "dash-Secret-4",
        "AWS_ENDPOINT_URL": "http://s3.example.com:9000", "AWS_REGION": "sa-east-1",
        "BUCKET_NAME": "reports",
        "BOOTSTRAP_SERVERS": "kafka.example.com:9092", "SASL_USERNAME": "app",
        "SASL_PASSWORD": "sasl-Secret-6",
    }


def test_the_loader_gets_its_login_and_the_transform_login_it_hands_to_dbt(clean):
    env = component_env(settings_from(clean, EVERYTHING), "loader")
    assert env == {
        "POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "6432", "POSTGRES_DB": "sales",
        "POSTGRES_LOADER_USER": "salespipe_loader", "POSTGRES_LOADER_PASSWORD": "loader-Secret-2",
        "POSTGRES_TRANSFORM_USER": "etl", "POSTGRES_TRANSFORM_PASSWORD": "etl-Secret-3",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "aws-Secret-5",
        "AWS_ENDPOINT_URL": "http://s3.example.com:9000", "AWS_REGION": "sa-east-1",
        "BUCKET_NAME": "reports",
        "BOOTSTRAP_SERVERS": "kafka.example.com:9092", "SASL_USERNAME": "app",
        "SASL_PASSWORD": "sasl-Secret-6",
        "ALERT_WEBHOOK_URL": "https://hooks.example.com/Secret-7",
        "ALERT_WEBHOOK_SECRET": "hook-Secret-8",
    }


def test_dbt_gets_the_transform_login_under_its_secret_name_and_nothing_else(clean):
    settings = settings_from(clean, EVERYTHING)
    inherited = {"PATH": "/usr/bin", **EVERYTHING}

    env = component_environ(settings, "transform", inherited)

    assert env == {
        "PATH": "/usr/bin",
        "POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "6432", "POSTGRES_DB": "sales",
        "POSTGRES_USER": "etl", "DBT_ENV_SECRET_POSTGRES_PASSWORD": "etl-Secret-3",
        "DBT_PROFILES_DIR": str(ROOT), "DBT_PROJECT_DIR": str(ROOT / "dbt_sales"),
        "AWS_ENDPOINT_URL": "http://s3.example.com:9000", "AWS_REGION": "sa-east-1",
        "BUCKET_NAME": "reports", "BOOTSTRAP_SERVERS": "kafka.example.com:9092",
    }


@pytest.mark.parametrize(("component", "secrets"), [
    ("watcher", {"aws-Secret-5", "sasl-Secret-6"}),
    ("generator", {"aws-Secret-5"}),
])
def test_the_watcher_and_generator_get_no_database_login(clean, component, secrets):
    env = component_environ(settings_from(clean, EVERYTHING), component, EVERYTHING)
    assert {s for s in SECRETS if any(s in v for v in env.values())} == secrets
    assert not [k for k in env if k.startswith("POSTGRES_") and k.endswith(("USER", "PASSWORD"))]


def test_without_logins_of_their_own_components_share_the_owner_login(clean):
    # The fallback on a managed server with one login: POSTGRES_USER acting as the role.
    shared = {k: v for k, v in EVERYTHING.items()
              if not k.startswith(("POSTGRES_LOADER", "POSTGRES_TRANSFORM", "POSTGRES_DASHBOARD"))}
    settings = settings_from(clean, shared)
    env = component_env(settings, "dashboard")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("owner", "owner-Secret-1")
    dbt = component_env(settings, "transform")
    assert (dbt["POSTGRES_USER"], dbt["DBT_ENV_SECRET_POSTGRES_PASSWORD"]) == (
        "owner", "owner-Secret-1")


def test_every_secret_setting_counts_as_a_credential():
    secret_fields = {name for name, field in Settings.model_fields.items()
                     if "SecretStr" in str(field.annotation)}
    assert "POSTGRES_DASHBOARD_PASSWORD" in secret_fields
    assert secret_fields <= CREDENTIALS


def test_local_passwords_are_generated_once_and_kept_private(tmp_path):
    first = passwords(tmp_path)
    path = tmp_path / ".salespipe" / "postgres-logins.json"

    assert set(first) == {"loader", "transform", "dashboard"}
    assert len(set(first.values())) == 3 and all(len(p) >= 24 for p in first.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    assert passwords(tmp_path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["postgres-logins.json"]


def test_an_external_server_is_left_to_its_administrator(clean):
    from cli.local.logins import with_local_logins

    external = settings_from(clean, {"POSTGRES_HOST": "db.example.com"})
    assert with_local_logins(external) is external
