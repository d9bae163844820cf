"""Kafka client configuration and topic setup (confluent-kafka / librdkafka)."""

from __future__ import annotations

import logging
from typing import Any

from salespipe.settings import TOPIC_DLQ, TOPIC_FILES, TOPIC_LOADS, Settings

FILES_PARTITIONS = 6


class _RepeatFilter(logging.Filter):
    """During a broker outage librdkafka reports the same connect failure many times a second;
    keep the first of each message per interval so the log stays readable."""

    def __init__(self, interval_s: float = 30.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        import time

        key = record.getMessage().split(": ", 1)[-1]
        now = time.monotonic()
        if now - self._last.get(key, -self.interval_s) < self.interval_s:
            return False
        self._last[key] = now
        return True


_client_log = logging.getLogger("kafka.client")
_client_log.addFilter(_RepeatFilter())


class KafkaUnavailable(RuntimeError):
    """The broker did not answer; the message names the address, never credentials."""


def client_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    """Common librdkafka settings. SASL credentials switch the client to SASL_SSL (hosted Kafka)."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": settings.CLIENT_ID,
        # librdkafka's own log lines go through `logging` (one format, no raw stderr noise).
        "logger": _client_log,
    }
    if settings.SASL_USERNAME and settings.SASL_PASSWORD is not None:
        conf.update({
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": settings.SASL_MECHANISM,
            "sasl.username": settings.SASL_USERNAME,
            "sasl.password": settings.SASL_PASSWORD.get_secret_value(),
        })
    conf.update(extra)
    return conf


def producer_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    return client_config(settings, **{
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 120_000,
        **extra,
    })


def consumer_config(settings: Settings, group_id: str, **extra: Any) -> dict[str, Any]:
    return client_config(settings, **{
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        # A dbt build may take minutes between polls; keep the member in the group meanwhile.
        "max.poll.interval.ms": 900_000,
        "partition.assignment.strategy": "cooperative-sticky",
        **extra,
    })


def check_broker(settings: Settings, timeout: float = 20.0) -> None:
    """Fail fast with one line when the broker is unreachable (librdkafka retries forever)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(client_config(settings, **{"socket.connection.setup.timeout.ms": 5000,
                                                   "log_level": 0}))
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise KafkaUnavailable(
            f"Kafka at {settings.bootstrap_servers} did not answer within {timeout:.0f}s"
        ) from exc


def ensure_topics(settings: Settings, timeout: float = 30.0,
                  wanted: dict[str, int] | None = None) -> list[str]:
    """Create topics if missing (the contract's by default: name -> partitions); returns those created."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_config(settings))
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.bootstrap_servers} did not answer") from exc
    wanted = wanted or {TOPIC_FILES: FILES_PARTITIONS, TOPIC_DLQ: 1, TOPIC_LOADS: 1}
    new = [NewTopic(name, num_partitions=n, replication_factor=1)
           for name, n in wanted.items() if name not in existing]
    if not new:
        return []
    futures = admin.create_topics(new, operation_timeout=timeout)
    created = []
    for name, fut in futures.items():
        try:
            fut.result()
            created.append(name)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return created
