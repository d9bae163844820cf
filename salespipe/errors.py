"""Expected failures and their one-line messages for the CLI (never with secrets in them)."""

from __future__ import annotations

from pydantic import SecretStr

from salespipe.settings import Settings


class UserError(RuntimeError):
    """A failure the user can act on (a service down, a right missing, a setting wrong): its
    message is one line that names what to do. Raised below the CLI, printed by it."""


def user_message(exc: BaseException) -> str | None:
    """A one-line message for errors a user can act on; None means "a bug: show the traceback"."""
    from pydantic import ValidationError

    if isinstance(exc, UserError):
        return redact(str(exc))
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
    """Remove every secret the settings hold (any `SecretStr` field, the per-component
    passwords included) from a message before it is shown or logged."""
    s = settings or Settings()
    secrets = [getattr(s, name) for name in type(s).model_fields]
    for secret in secrets:
        if isinstance(secret, SecretStr) and secret.get_secret_value():
            text = text.replace(secret.get_secret_value(), "***")
    return text
