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


def test_redact_hides_every_secret_including_component_passwords():
    from pydantic import SecretStr

    from salespipe.errors import redact
    from salespipe.settings import Settings

    s = Settings(POSTGRES_PASSWORD=SecretStr("admin-pw-1"), SASL_PASSWORD=SecretStr("sasl-pw-2"),
                 POSTGRES_LOADER_PASSWORD=SecretStr("loader-pw-3"),
                 POSTGRES_DASHBOARD_PASSWORD=SecretStr("dash-pw-4"))
    text = "a admin-pw-1 b sasl-pw-2 c loader-pw-3 d dash-pw-4 e"
    assert redact(text, s) == "a *** b *** c *** d *** e"
