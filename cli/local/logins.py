"""Logins of their own for the components on the local PostgreSQL.

`salespipe services up` gives each component role (salespipe_loader, salespipe_transform,
salespipe_dashboard) LOGIN and a password generated once for this checkout, kept in
`.salespipe/postgres-logins.json` (mode 0600, git-ignored with the rest of `.salespipe/`);
`salespipe run` then hands each component only its own. Components with a login configured
(POSTGRES_<COMPONENT>_USER / _PASSWORD) keep it; an external server is left to its
administrator (README, Least privilege).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from salespipe.settings import COMPONENT_ROLES, Settings, state_dir

LOGINS_FILE = "postgres-logins.json"


def logins_path(root: Path | None = None) -> Path:
    return state_dir(root) / LOGINS_FILE


def passwords(root: Path | None = None) -> dict[str, str]:
    """One password per component: those stored, any missing one generated and stored."""
    path = logins_path(root)
    try:
        stored = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    wanted = {c: str(stored.get(c) or secrets.token_urlsafe(24)) for c in COMPONENT_ROLES}
    if wanted == stored:
        path.chmod(0o600)  # whatever mode it was given meanwhile
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{LOGINS_FILE}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fd, 0o600)  # also when a leftover file had other bits
            json.dump(wanted, fh, indent=2)
        os.replace(partial, path)
    return wanted


def with_local_logins(settings: Settings) -> Settings:
    """`settings` plus a generated password for every component without a login configured,
    when PostgreSQL is the local one; else `settings` unchanged."""
    if settings.external_postgres:
        return settings
    missing = [c for c in COMPONENT_ROLES if settings.component_login(c) is None]
    if not missing:
        return settings
    generated = passwords()
    return settings.model_copy(update={
        f"POSTGRES_{c.upper()}_PASSWORD": SecretStr(generated[c]) for c in missing})
