"""Hosted-Kafka settings on the real local broker: topic creation (partitions, the broker's
default replication factor) and the SASL_SSL + PLAIN path through the broker's SASL_SSL
listener (self-signed certificate, trusted through KAFKA_SSL_CA_LOCATION, and refused in one
line when that CA is missing or another one is configured)."""

from __future__ import annotations

import signal
import subprocess
import uuid

import pytest

from tests.integration.loader_support import put, query, sale, to_csv
from tests.integration.test_loader_processes import SALESPIPE, loader_cmd, wait_for

pytestmark = pytest.mark.integration

WRONG_PASSWORD = "Wr0ng-Kafka-Pa55-" + uuid.uuid4().hex[:8]


def _describe(settings, topic: str) -> list[int]:
    """Replica count of each partition of `topic`, as the broker reports it."""
    from confluent_kafka.admin import AdminClient

    from salespipe.kafka import client_config

    meta = AdminClient(client_config(settings)).list_topics(topic, timeout=10)
    partitions = meta.topics[topic].partitions
    return [len(partitions[p].replicas) for p in sorted(partitions)]


def _sasl_env(world, password: str, user: str | None = None) -> dict[str, str]:
    from cli.local.kafka import LOCAL_SASL_USER
    from salespipe.settings import read_services_state

    broker = read_services_state()["kafka"]
    return dict(world.env, BOOTSTRAP_SERVERS=f"127.0.0.1:{broker['sasl_port']}",
                SASL_USERNAME=user or LOCAL_SASL_USER, SASL_PASSWORD=password,
                KAFKA_SSL_CA_LOCATION=broker["ca_location"])


def _one_error_line(proc: subprocess.CompletedProcess, command: str) -> str:
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if "error" in ln.lower()]
    assert len(errors) == 1, proc.stderr[-2000:]
    assert errors[0].startswith(f"salespipe {command}: error: Kafka: ")
    return errors[0]


def test_topics_get_configured_partitions_and_the_brokers_default_replication(world):
    from salespipe import kafka

    settings = world.settings.model_copy(update={"KAFKA_TOPIC_PARTITIONS": 4})
    assert settings.KAFKA_REPLICATION_FACTOR == -1
    prefix = f"t.rf.{uuid.uuid4().hex[:8]}"
    plan = kafka.topic_plan(settings, f"{prefix}.files", f"{prefix}.dlq", f"{prefix}.loads")
    created = kafka.ensure_topics(settings, wanted=plan)
    assert sorted(created) == sorted(plan)
    # The local broker's default replication factor is 1 (one broker): 4 and 1 partitions.
    assert _describe(settings, f"{prefix}.files") == [1, 1, 1, 1]
    assert _describe(settings, f"{prefix}.dlq") == [1]
    assert _describe(settings, f"{prefix}.loads") == [1]
    assert kafka.ensure_topics(settings, wanted=plan) == []


def test_replication_factor_the_cluster_cannot_meet_fails_with_a_clear_error(world):
    from salespipe import kafka

    settings = world.settings.model_copy(update={"KAFKA_REPLICATION_FACTOR": 3})
    topic = f"t.rf3.{uuid.uuid4().hex[:8]}"
    with pytest.raises(kafka.KafkaFatal, match=f"could not create topic {topic} "
                                               r"\(replication factor 3, 2 partitions\)"):
        kafka.ensure_topics(settings, wanted={topic: 2})


def test_watch_and_load_through_sasl_ssl_load_an_uploaded_file(world, tmp_path):
    env = _sasl_env(world, "salespipe-local-sasl")
    logs = {name: tmp_path / f"{name}.log" for name in ("watch", "load")}
    procs = [
        subprocess.Popen([SALESPIPE, "watch", "--interval", "0.5", "--topic", world.files_topic],
                         env=env, stdout=logs["watch"].open("w"), stderr=subprocess.STDOUT),
        subprocess.Popen(loader_cmd(world, "--no-dbt"), env=env, stdout=logs["load"].open("w"),
                         stderr=subprocess.STDOUT),
    ]
    try:
        put(world, "incoming/sasl.csv", to_csv([sale("SASL-1"), sale("SASL-2")]))
        wait_for(lambda: query(world, "select count(*) from raw.files")[0][0] == 1, timeout=120)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(60) for p in procs]
    written = {name: path.read_text() for name, path in logs.items()}
    assert codes == [0, 0], written
    assert query(world, "select key, status, rows_valid from raw.files") == [
        ("incoming/sasl.csv", "loaded", 2)]
    assert "event=announced key=incoming/sasl.csv" in written["watch"]
    assert "event=file_loaded key=incoming/sasl.csv" in written["load"]


@pytest.mark.parametrize("command", ["watch", "load"])
def test_wrong_sasl_password_stops_with_one_line_and_never_prints_it(world, command):
    env = _sasl_env(world, WRONG_PASSWORD)
    argv = ([SALESPIPE, "watch", "--topic", world.files_topic] if command == "watch"
            else loader_cmd(world, "--no-dbt"))
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert "Authentication failed" in _one_error_line(proc, command)
    assert WRONG_PASSWORD not in proc.stderr + proc.stdout


@pytest.mark.parametrize("ca", ["missing", "wrong"])
@pytest.mark.parametrize("command", ["watch", "load"])
def test_broker_certificate_no_configured_ca_trusts_stops_with_one_line(world, command, ca):
    import certifi

    from cli.local.kafka import LOCAL_SASL_PASSWORD

    env = _sasl_env(world, LOCAL_SASL_PASSWORD)  # right credentials: only the CA is wrong
    if ca == "missing":
        del env["KAFKA_SSL_CA_LOCATION"]
    else:  # public CAs, none of which signed the local broker's self-signed certificate
        env["KAFKA_SSL_CA_LOCATION"] = certifi.where()
    argv = ([SALESPIPE, "watch", "--topic", world.files_topic] if command == "watch"
            else loader_cmd(world, "--no-dbt"))
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    line = _one_error_line(proc, command)
    assert "certificate verify failed" in line, line
    assert line.endswith("(set KAFKA_SSL_CA_LOCATION for a private CA)"), line
    assert LOCAL_SASL_PASSWORD not in proc.stderr + proc.stdout


@pytest.mark.parametrize("command", ["watch", "load"])
def test_user_without_rights_stops_with_one_authorization_error(world, command):
    from cli.local.kafka import LOCAL_SASL_PASSWORD, LOCAL_SASL_UNAUTHORIZED_USER

    env = _sasl_env(world, LOCAL_SASL_PASSWORD, user=LOCAL_SASL_UNAUTHORIZED_USER)
    if command == "watch":  # something to announce, on a topic it may not write
        put(world, "incoming/denied.csv", to_csv([sale("D1")]))
        argv = [SALESPIPE, "watch", "--topic", world.files_topic]
    else:
        argv = loader_cmd(world, "--no-dbt")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert "AUTHORIZATION_FAILED" in _one_error_line(proc, command)
