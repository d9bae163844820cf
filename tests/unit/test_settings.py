import pytest

from salespipe.kafka import client_config
from salespipe.settings import Settings

ENV_NAMES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL",
             "BUCKET_NAME", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST",
             "POSTGRES_PORT", "POSTGRES_DB", "BOOTSTRAP_SERVERS", "SASL_USERNAME",
             "SASL_PASSWORD", "CLIENT_ID"]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    return monkeypatch


def test_every_contract_variable_is_a_settings_field():
    assert set(ENV_NAMES) <= set(Settings.model_fields)


def test_external_services_are_read_from_the_environment(clean_env):
    clean_env.setenv("POSTGRES_HOST", "db.example.com")
    clean_env.setenv("POSTGRES_PORT", "6543")
    clean_env.setenv("BOOTSTRAP_SERVERS", "broker-1.example.com:9092")
    clean_env.setenv("AWS_ENDPOINT_URL", "http://minio:9000")
    s = Settings()
    assert (s.external_postgres, s.external_kafka, s.external_s3) == (True, True, True)
    assert (s.pg_host, s.pg_port) == ("db.example.com", 6543)
    assert s.bootstrap_servers == "broker-1.example.com:9092"
    assert s.s3_endpoint == "http://minio:9000"


def test_secrets_do_not_appear_in_repr(clean_env):
    clean_env.setenv("POSTGRES_PASSWORD", "pg-Secret-123")
    clean_env.setenv("SASL_PASSWORD", "kafka-Secret-456")
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", "aws-Secret-789")
    text = repr(Settings()) + str(Settings()) + Settings().model_dump_json()
    for secret in ("pg-Secret-123", "kafka-Secret-456", "aws-Secret-789"):
        assert secret not in text


def test_sasl_credentials_switch_kafka_clients_to_sasl_ssl(clean_env):
    clean_env.setenv("BOOTSTRAP_SERVERS", "pkc.example.cloud:9092")
    clean_env.setenv("SASL_USERNAME", "api-key")
    clean_env.setenv("SASL_PASSWORD", "api-secret")
    clean_env.setenv("CLIENT_ID", "salespipe-prod")
    conf = client_config(Settings())
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "PLAIN"
    assert (conf["sasl.username"], conf["sasl.password"]) == ("api-key", "api-secret")
    assert conf["client.id"] == "salespipe-prod"
    assert conf["bootstrap.servers"] == "pkc.example.cloud:9092"


def test_without_sasl_kafka_clients_use_plaintext(clean_env):
    clean_env.setenv("BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    conf = client_config(Settings())
    assert "security.protocol" not in conf and "sasl.password" not in conf


def test_kafka_ca_location_is_passed_to_librdkafka_only_when_set(clean_env):
    assert "ssl.ca.location" not in client_config(Settings())
    clean_env.setenv("KAFKA_SSL_CA_LOCATION", "/etc/salespipe/broker-ca.pem")
    assert client_config(Settings())["ssl.ca.location"] == "/etc/salespipe/broker-ca.pem"


def test_topic_settings_default_to_six_partitions_and_the_brokers_replication(clean_env):
    from salespipe.kafka import topic_plan

    s = Settings()
    assert (s.KAFKA_TOPIC_PARTITIONS, s.KAFKA_REPLICATION_FACTOR) == (6, -1)
    clean_env.setenv("KAFKA_TOPIC_PARTITIONS", "12")
    clean_env.setenv("KAFKA_REPLICATION_FACTOR", "3")
    s = Settings()
    assert s.KAFKA_REPLICATION_FACTOR == 3
    assert topic_plan(s) == {"sales.files": 12, "sales.files.dlq": 1, "sales.loads": 1}


@pytest.mark.parametrize("name, value", [("KAFKA_REPLICATION_FACTOR", "0"),
                                         ("KAFKA_REPLICATION_FACTOR", "-2"),
                                         ("KAFKA_TOPIC_PARTITIONS", "0")])
def test_impossible_topic_settings_are_rejected(clean_env, name, value):
    from pydantic import ValidationError

    clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match=name):
        Settings()


@pytest.mark.parametrize("code, fatal", [
    ("_AUTHENTICATION", True), ("SASL_AUTHENTICATION_FAILED", True),
    ("TOPIC_AUTHORIZATION_FAILED", True), ("GROUP_AUTHORIZATION_FAILED", True),
    ("_FATAL", True), ("_ALL_BROKERS_DOWN", False), ("_TRANSPORT", False),
    ("_TIMED_OUT", False),
])
def test_only_errors_retrying_cannot_fix_are_fatal(code, fatal):
    from confluent_kafka import KafkaError

    from salespipe.kafka import fatal_reason

    error = KafkaError(getattr(KafkaError, code), "broker said no")
    assert (fatal_reason(error) is not None) is fatal


def test_an_untrusted_certificate_is_fatal_and_names_the_ca_setting():
    from confluent_kafka import KafkaError

    from salespipe.kafka import fatal_reason

    error = KafkaError(KafkaError._SSL, "SSL handshake failed: certificate verify failed")
    assert "KAFKA_SSL_CA_LOCATION" in (fatal_reason(error) or "")
    # The same handshake, as librdkafka sometimes reports it first (seen on the real broker).
    error = KafkaError(KafkaError._TRANSPORT, "sasl_ssl://127.0.0.1:9093/bootstrap: error:0A000086:"
                       "SSL routines::certificate verify failed (after 14ms in state SSL_HANDSHAKE)")
    assert "KAFKA_SSL_CA_LOCATION" in (fatal_reason(error) or "")
    assert fatal_reason(KafkaError(KafkaError._TRANSPORT, "Connection refused")) is None
    assert fatal_reason(KafkaError(KafkaError._SSL, "SSL handshake failed: Disconnected")) is None


def test_redact_hides_every_secret_including_component_passwords():
    from pydantic import SecretStr

    from salespipe.errors import redact
    from salespipe.settings import Settings

    s = Settings(POSTGRES_PASSWORD=SecretStr("admin-pw-1"), SASL_PASSWORD=SecretStr("sasl-pw-2"),
                 POSTGRES_LOADER_PASSWORD=SecretStr("loader-pw-3"),
                 POSTGRES_DASHBOARD_PASSWORD=SecretStr("dash-pw-4"))
    text = "a admin-pw-1 b sasl-pw-2 c loader-pw-3 d dash-pw-4 e"
    assert redact(text, s) == "a *** b *** c *** d *** e"
