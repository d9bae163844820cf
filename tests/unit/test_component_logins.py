"""Which login and role each component uses, derived from the POSTGRES_* settings alone."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from salespipe.settings import Settings

_NAMES = ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB",
          "DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_ENV_SECRET_POSTGRES_PASSWORD"] + [
    f"POSTGRES_{c}_{k}" for c in ("LOADER", "TRANSFORM", "DASHBOARD") for k in ("USER", "PASSWORD")]


@pytest.fixture
def managed(monkeypatch, tmp_path):
    """The five variables of an existing server, nothing else."""
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for name, value in {"POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "5432",
                        "POSTGRES_USER": "app", "POSTGRES_PASSWORD": "app-Secret-1",
                        "POSTGRES_DB": "sales"}.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize(("component", "role"), [("loader", "salespipe_loader"),
                                                 ("transform", "salespipe_transform"),
                                                 ("dashboard", "salespipe_dashboard")])
def test_without_own_login_a_component_logs_in_as_postgres_user_and_acts_as_its_role(
        managed, component, role):
    kwargs = Settings().for_component(component).pg_connect_kwargs()
    assert (kwargs["user"], kwargs["password"]) == ("app", "app-Secret-1")
    assert kwargs["options"] == f"-c role={role}"


def test_the_administrative_connection_switches_to_no_role(managed):
    assert "options" not in Settings().pg_connect_kwargs()


def test_a_component_password_alone_logs_in_as_the_component_role_without_options(managed):
    # No `options` startup parameter: poolers that refuse it (pgbouncer's default) let it in.
    managed.setenv("POSTGRES_LOADER_PASSWORD", "loader-Secret-2")
    kwargs = Settings().for_component("loader").pg_connect_kwargs()
    assert (kwargs["user"], kwargs["password"]) == ("salespipe_loader", "loader-Secret-2")
    assert "options" not in kwargs
    other = Settings().for_component("dashboard").pg_connect_kwargs()
    assert (other["user"], other["options"]) == ("app", "-c role=salespipe_dashboard")


def test_a_component_user_of_your_own_keeps_its_password(managed):
    managed.setenv("POSTGRES_DASHBOARD_USER", "bi_reader")
    managed.setenv("POSTGRES_DASHBOARD_PASSWORD", "bi-Secret-3")
    kwargs = Settings().for_component("dashboard").pg_connect_kwargs()
    assert (kwargs["user"], kwargs["password"]) == ("bi_reader", "bi-Secret-3")
    assert kwargs["options"] == "-c role=salespipe_dashboard"  # a login granted the role


def test_a_component_user_without_password_never_gets_the_local_default(managed):
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD"):
        managed.delenv(name)
    managed.setenv("POSTGRES_LOADER_USER", "salespipe_loader")
    assert Settings().pg_password == "salespipe"  # the embedded server's own login
    assert Settings().for_component("loader").pg_password == ""


def test_dbt_gets_the_password_under_a_secret_name_and_absolute_project_paths(managed):
    env = Settings().as_env()
    assert env["DBT_ENV_SECRET_POSTGRES_PASSWORD"] == "app-Secret-1"
    profiles, project = Path(env["DBT_PROFILES_DIR"]), Path(env["DBT_PROJECT_DIR"])
    assert profiles.is_absolute() and (profiles / "profiles.yml").is_file()
    assert project.is_absolute() and (project / "dbt_project.yml").is_file()


def test_component_passwords_are_secret(managed):
    managed.setenv("POSTGRES_TRANSFORM_PASSWORD", "transform-Secret-4")
    s = Settings()
    assert isinstance(s.POSTGRES_TRANSFORM_PASSWORD, SecretStr)
    assert "transform-Secret-4" not in repr(s.for_component("transform"))
