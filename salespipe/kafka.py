"""Kafka client configuration and topic setup (confluent-kafka / librdkafka)."""

from __future__ import annotations

import logging
from typing import Any

from salespipe.errors import UserError
from salespipe.logs import get_logger
from salespipe.settings import TOPIC_DLQ, TOPIC_FILES, TOPIC_LOADS, Settings


class _RepeatFilter(logging.Filter):
    """During a broker outage librdkafka reports the same connect failure many times a second;
    keep the first of each message per interval so the log stays readable. Its `FAIL` and
    `FATAL` lines are dropped: `error_cb` reports the same errors (and stops the process on
    fatal ones)."""

    def __init__(self, interval_s: float = 30.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        import re
        import time

        message = record.getMessage()
        if message.startswith(("FAIL ", "FATAL ")):
            return False
        key = re.sub(r"\d+ms", "", message.split(": ", 1)[-1])
        now = time.monotonic()
        if now - self._last.get(key, -self.interval_s) < self.interval_s:
            return False
        self._last[key] = now
        return True


# librdkafka logs through the standard logger; our own events through structlog over it, so
# the repeat filter sees both.
_client_log = logging.getLogger("kafka.client")
_client_log.addFilter(_RepeatFilter())
log = get_logger("kafka.client")


class KafkaUnavailable(UserError):
    """The broker did not answer; the message names the address, never credentials."""


class KafkaFatal(UserError):
    """An error retrying cannot fix (rejected credentials, missing rights, an untrusted
    certificate, a fenced idempotent producer): the process stops with this one line."""


# Codes whose cause is configuration, not the network: librdkafka would retry them forever.
_FATAL_CODES = frozenset({
    "_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED", "TOPIC_AUTHORIZATION_FAILED",
    "GROUP_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "_FATAL",
})


def fatal_reason(error: Any) -> str | None:
    """A one-line reason when `error` (a `KafkaError`) is fatal, else None. An unreachable
    broker (`_TRANSPORT`, `_ALL_BROKERS_DOWN`) is not: the client reconnects by itself. An
    untrusted certificate is, under either code: librdkafka at times reports the failed
    handshake as `_TRANSPORT` before it reports it as `_SSL`."""
    name = error.name()
    text = str(error.str())
    if error.fatal() or name in _FATAL_CODES:
        return f"{name}: {text}"
    if name in ("_SSL", "_TRANSPORT") and "certificate" in text.lower():
        return f"{name}: {text} (set KAFKA_SSL_CA_LOCATION for a private CA)"
    return None


def raise_if_fatal(error: Any) -> None:
    """Raise `KafkaFatal` for a fatal `KafkaError` (from a callback, a message or a delivery
    report); other errors are the caller's to log or retry."""
    reason = fatal_reason(error)
    if reason is not None:
        raise KafkaFatal(f"Kafka: {reason}")


def on_client_error(error: Any) -> None:
    """librdkafka's `error_cb`: raised from the poll/consume/flush call that served it, so a
    fatal error ends the component's loop instead of being logged and retried forever."""
    raise_if_fatal(error)
    log.warning("kafka_error", error=error)


def client_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    """Common librdkafka settings. SASL credentials switch the client to SASL_SSL (hosted Kafka)."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": settings.CLIENT_ID,
        # librdkafka's own log lines go through `logging` (one format, no raw stderr noise).
        "logger": _client_log,
        "error_cb": on_client_error,
    }
    if settings.SASL_USERNAME and settings.SASL_PASSWORD is not None:
        conf.update({
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": settings.SASL_MECHANISM,
            "sasl.username": settings.SASL_USERNAME,
            "sasl.password": settings.SASL_PASSWORD.get_secret_value(),
        })
    if settings.KAFKA_SSL_CA_LOCATION:
        conf["ssl.ca.location"] = settings.KAFKA_SSL_CA_LOCATION
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
        "partition.assignment.strategy": "cooperative-sticky",
        **extra,
    })


def check_broker(settings: Settings, timeout: float = 20.0) -> None:
    """Fail fast with one line when the broker is unreachable or refuses us (librdkafka
    retries both forever). Asks in one-second slices so a rejected login, reported through
    `error_cb` only when callbacks are served, ends the wait at once."""
    import time

    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    # Quiet: an unreachable broker is reported once, below, not per connection attempt.
    admin = AdminClient(client_config(settings, **{"socket.connection.setup.timeout.ms": 5000,
                                                   "log_level": 0, "error_cb": raise_if_fatal}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin.list_topics(timeout=min(1.0, max(deadline - time.monotonic(), 0.1)))
            return
        except KafkaException as exc:
            admin.poll(0)  # serves error_cb: raises KafkaFatal for rejected credentials
            if time.monotonic() >= deadline:
                raise KafkaUnavailable(
                    f"Kafka at {settings.bootstrap_servers} did not answer within {timeout:.0f}s"
                ) from exc


def topic_plan(settings: Settings, files: str = TOPIC_FILES, dlq: str = TOPIC_DLQ,
               loads: str = TOPIC_LOADS) -> dict[str, int]:
    """Topic name -> partitions. Only `sales.files` is consumed by a group, so only it needs
    more than one partition; the others keep their order in one."""
    return {files: settings.KAFKA_TOPIC_PARTITIONS, dlq: 1, loads: 1}


def ensure_topics(settings: Settings, timeout: float = 30.0,
                  wanted: dict[str, int] | None = None) -> list[str]:
    """Create the missing topics of `wanted` (name -> partitions; the contract's by default)
    with `KAFKA_REPLICATION_FACTOR`; returns those created. Existing topics are left as they
    are: changing partitions would move keys between partitions."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    check_broker(settings, timeout)  # rejected credentials: one clear line, not a timeout
    admin = AdminClient(client_config(settings))
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.bootstrap_servers} did not answer") from exc
    wanted = wanted or topic_plan(settings)
    new = [NewTopic(name, num_partitions=n, replication_factor=settings.KAFKA_REPLICATION_FACTOR)
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
            error = exc.args[0]
            if error.name() == "TOPIC_ALREADY_EXISTS":
                continue
            kind = KafkaUnavailable if error.retriable() else KafkaFatal
            raise kind(f"Kafka could not create topic {name} (replication factor "
                       f"{settings.KAFKA_REPLICATION_FACTOR}, {wanted[name]} partitions): "
                       f"{error.str()}") from exc
    return created
