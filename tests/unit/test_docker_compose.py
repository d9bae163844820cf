"""No Docker engine runs here, so check the compose file against the code instead."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from salespipe.cli import build_parser
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
