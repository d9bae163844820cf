"""Translate expected failures into one line for the CLI (never with secrets in them)."""

from __future__ import annotations

from salespipe.settings import Settings


def user_message(exc: BaseException) -> str | None:
    """A one-line message for errors a user can act on; None means "a bug: show the traceback"."""
    from pydantic import ValidationError

    from salespipe.db import SchemaMissing
    from salespipe.kafka import KafkaUnavailable
    from salespipe.services.process import ServiceError

    if isinstance(exc, KafkaUnavailable | ServiceError | SchemaMissing):
        return str(exc)
    if isinstance(exc, ValidationError):
        return f"invalid configuration: {exc.errors()[0].get('loc')} {exc.errors()[0].get('msg')}"
    try:
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            return f"PostgreSQL unreachable: {redact(str(exc).splitlines()[0])}"
    except ImportError:  # pragma: no cover
        pass
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, BotoCoreError | ClientError):
            return f"S3: {exc}"
    except ImportError:  # pragma: no cover
        pass
    return None


def redact(text: str, settings: Settings | None = None) -> str:
    """Remove any configured secret from a message before it is shown or logged."""
    s = settings or Settings()
    for secret in (s.POSTGRES_PASSWORD, s.AWS_SECRET_ACCESS_KEY, s.SASL_PASSWORD,
                   s.POSTGRES_LOADER_PASSWORD, s.POSTGRES_TRANSFORM_PASSWORD,
                   s.POSTGRES_DASHBOARD_PASSWORD, s.ALERT_WEBHOOK_SECRET, s.ALERT_WEBHOOK_URL):
        if secret is not None and secret.get_secret_value():
            text = text.replace(secret.get_secret_value(), "***")
    return text
