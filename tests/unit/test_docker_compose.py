"""No Docker engine runs here, so check the compose file against the code instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cli.main import build_parser
from salespipe.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OURS = {name: svc for name, svc in SERVICES.items() if svc.get("image") == "salespipe:local"}


def test_every_component_is_built_from_the_one_dockerfile():
    assert {"loader", "watcher", "generator", "dashboard", "dbt-docs"} <= set(OURS)
    assert (ROOT / "Dockerfile").exists()
    assert all(svc.get("build") == "." for svc in OURS.values())


@pytest.mark.parametrize("name", sorted(OURS))
def test_service_command_is_a_real_salespipe_subcommand(name):
    command = OURS[name]["command"]
    assert command[0] == "salespipe"
    args = build_parser().parse_args(command[1:])  # SystemExit on an unknown option
    assert callable(args.func)


@pytest.mark.parametrize("name", sorted(OURS))
def test_service_environment_uses_only_settings_variables(name):
    env = OURS[name]["environment"]
    unknown = set(env) - set(Settings.model_fields)
    assert not unknown, f"{name} sets variables no setting reads: {unknown}"


def test_published_host_ports_do_not_collide():
    host_ports = [str(p).split(":")[0] for svc in SERVICES.values() for p in svc.get("ports", [])]
    assert len(host_ports) == len(set(host_ports))


def test_the_containers_reach_each_other_by_service_name():
    env = OURS["loader"]["environment"]
    assert env["POSTGRES_HOST"] in SERVICES
    assert env["BOOTSTRAP_SERVERS"].split(":")[0] in SERVICES
    assert env["AWS_ENDPOINT_URL"].split("//")[1].split(":")[0] in SERVICES
    kafka_env = SERVICES["kafka"]["environment"]
    assert kafka_env["KAFKA_ADVERTISED_LISTENERS"].endswith(env["BOOTSTRAP_SERVERS"])


IMAGES = {name: svc["image"] for name, svc in SERVICES.items() if name not in OURS}


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_public_images_are_pinned_to_a_version(name):
    image = IMAGES[name]
    repository, _, tag = image.rpartition(":")
    assert repository and tag != "latest", f"{name}: {image} is not pinned"
    assert re.fullmatch(r"v?\d+(\.\d+)+", tag), f"{name}: {image} is not pinned to x.y"


def test_no_minio_community_image():
    assert not any("minio" in image for image in IMAGES.values())


def test_postgres_healthcheck_goes_through_tcp():
    # The image's init server (first start) listens on the unix socket only.
    test = SERVICES["postgres"]["healthcheck"]["test"]
    args = test[1:] if test[0] == "CMD" else test[1].split()
    assert args[0] == "pg_isready"
    assert args[args.index("-h") + 1] in {"127.0.0.1", "localhost"}


def test_every_service_the_components_need_has_a_healthcheck():
    for name in ("kafka", "postgres", "s3"):
        assert SERVICES[name].get("healthcheck"), name
        assert SERVICES["init"]["depends_on"][name] == {"condition": "service_healthy"}


def test_s3_server_accepts_the_keys_the_components_use():
    s3_env = SERVICES["s3"]["environment"]
    for name, svc in OURS.items():
        env = svc["environment"]
        if "AWS_ENDPOINT_URL" in env:
            assert env["AWS_ACCESS_KEY_ID"] == s3_env["AWS_ACCESS_KEY_ID"], name
            assert env["AWS_SECRET_ACCESS_KEY"] == s3_env["AWS_SECRET_ACCESS_KEY"], name


def test_init_logs_in_as_the_servers_owner_and_everyone_uses_its_database():
    server = SERVICES["postgres"]["environment"]
    init = OURS["init"]["environment"]
    assert {k: init[k] for k in server} == server
    for name, svc in OURS.items():
        env = svc["environment"]
        if "POSTGRES_HOST" in env:
            assert env["POSTGRES_DB"] == server["POSTGRES_DB"], name


NEEDS = {
    "init": {"postgres", "s3", "kafka"},
    "loader": {"postgres", "s3", "kafka"},
    "watcher": {"s3", "kafka"},
    "generator": {"s3"},
    "dashboard": {"postgres", "kafka"},  # the pipeline page reads the loader's lag
    "dbt-docs": {"postgres"},
}
PREFIXES = {"postgres": "POSTGRES_", "s3": "AWS_", "kafka": "BOOTSTRAP_SERVERS"}


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_each_component_gets_only_the_services_it_uses(name):
    env = OURS[name]["environment"]
    given = {svc for svc, prefix in PREFIXES.items() if any(k.startswith(prefix) for k in env)}
    assert given == NEEDS[name]


# Least privilege: the owner's login is init's alone; each component holds its own login
# (a password alone: the migration makes the role itself a login with it).
LOGINS = {
    "init": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_LOADER_PASSWORD",
             "POSTGRES_TRANSFORM_PASSWORD", "POSTGRES_DASHBOARD_PASSWORD"},
    "loader": {"POSTGRES_LOADER_PASSWORD", "POSTGRES_TRANSFORM_PASSWORD"},  # dbt runs in it
    "dashboard": {"POSTGRES_DASHBOARD_PASSWORD"},
    "dbt-docs": {"POSTGRES_TRANSFORM_PASSWORD"},
    "watcher": set(),
    "generator": set(),
}


@pytest.mark.parametrize("name", sorted(LOGINS))
def test_each_component_holds_only_its_own_postgres_login(name):
    env = OURS[name]["environment"]
    logins = {k for k in env if k.startswith("POSTGRES_") and k.endswith(("_USER", "_PASSWORD"))}
    assert logins == LOGINS[name]


def test_the_dashboard_gets_no_secret_but_its_own_password():
    assert set(OURS["dashboard"]["environment"]) == {
        "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_DASHBOARD_PASSWORD",
        "BOOTSTRAP_SERVERS"}


def test_components_log_in_with_the_passwords_init_gives_their_roles():
    init = OURS["init"]["environment"]
    given = [init[k] for k in ("POSTGRES_PASSWORD", "POSTGRES_LOADER_PASSWORD",
                               "POSTGRES_TRANSFORM_PASSWORD", "POSTGRES_DASHBOARD_PASSWORD")]
    assert len(set(given)) == 4  # no role shares the owner's password, nor another's
    for name, svc in OURS.items():
        for key, value in svc["environment"].items():
            if key.startswith("POSTGRES_") and key.endswith("_PASSWORD"):
                assert value == init[key], (name, key)


def test_docs_site_is_generated_after_the_first_build():
    command = OURS["dbt-docs"]["command"]
    assert "--wait-for-marts" in command
    args = build_parser().parse_args(command[1:])
    assert args.wait_for_marts is True


def test_build_context_leaves_out_local_state_and_the_virtualenv():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", ".salespipe", ".env", "dbt_sales/target"} <= ignored
