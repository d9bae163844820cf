"""`salespipe services up|down|status` and `salespipe env`."""

from __future__ import annotations

import contextlib
import fcntl
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cli.local import kafka as kafka_service
from cli.local import postgres as pg_service
from cli.local import s3 as s3_service
from cli.local.logins import with_local_logins
from cli.local.process import ServiceError, StateFile, pid_alive, port_open, stop_pid
from salespipe.settings import Settings, state_dir


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # running | stopped | external | unreachable
    address: str

    @property
    def down(self) -> bool:
        return self.state in {"stopped", "unreachable"}


def _reachable(address: str | None, default_port: int) -> bool:
    """A TCP connect to `host:port` or `scheme://host:port/...` (external services)."""
    from urllib.parse import urlsplit

    if not address:
        return False
    first = address.split(",")[0].strip()
    parts = urlsplit(first if "//" in first else f"//{first}")
    return port_open(parts.port or default_port, host=parts.hostname or "127.0.0.1", timeout=2)


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One `up`/`down` at a time per checkout (tests and `make` may call them concurrently)."""
    state_dir().mkdir(parents=True, exist_ok=True)
    with open(state_dir() / "services.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def up(settings: Settings, log: Callable[[str], None] = print) -> None:
    """Start every service that is not configured externally, then create bucket, topics, schema."""
    with _exclusive():
        _up(settings, log)


def _up(settings: Settings, log: Callable[[str], None]) -> None:
    state = StateFile()
    base = state_dir()
    if not settings.external_postgres:
        info = pg_service.start(base / "postgres", state.read().get("postgres", {}))
        state.update("postgres", info)
        log(f"postgres  up   127.0.0.1:{info['port']}")
    if not settings.external_s3:
        info = s3_service.start(base / "s3", state.read().get("s3", {}))
        state.update("s3", info)
        log(f"s3        up   http://127.0.0.1:{info['port']}")
    if not settings.external_kafka:
        info = kafka_service.start(base / "kafka", state.read().get("kafka", {}))
        state.update("kafka", info)
        log(f"kafka     up   127.0.0.1:{info['port']}")
    provision(settings, log)


def provision(settings: Settings, log: Callable[[str], None] = print) -> None:
    """Idempotent setup on whichever services are in use (local or external)."""
    from salespipe import db, kafka, s3

    fresh = Settings(**settings.model_dump(exclude_unset=True))  # re-read recorded ports
    if not fresh.external_postgres:
        db.ensure_database(fresh, fresh.pg_db)
    # On the local server every component gets a login of its own (cli/local/logins.py).
    db.migrate(with_local_logins(fresh))
    if s3.ensure_bucket(fresh):
        log(f"created bucket {fresh.BUCKET_NAME}")
    created = kafka.ensure_topics(fresh)
    if created:
        log(f"created topics {', '.join(sorted(created))}")


def down(log: Callable[[str], None] = print) -> None:
    """Stop only what `up` started, by the pids it recorded."""
    with _exclusive():
        _down(log)


def _down(log: Callable[[str], None]) -> None:
    state = StateFile()
    data = state.read()
    if "kafka" in data:
        stop_pid(int(data["kafka"].get("pid") or 0), timeout=30)
        log("kafka     stopped")
    if "s3" in data:
        stop_pid(int(data["s3"].get("pid") or 0))
        log("s3        stopped")
    if "postgres" in data:
        pg_service.stop(data["postgres"])
        log("postgres  stopped")
    for name in ("kafka", "s3", "postgres"):
        if name in data:
            info = dict(data[name])
            info["pid"] = None
            state.update(name, info)


def status(settings: Settings) -> list[ServiceStatus]:
    data = StateFile().read()
    rows: list[ServiceStatus] = []

    def local(name: str, address: str) -> ServiceStatus:
        info = data.get(name, {})
        pid = info.get("pid")
        if name == "postgres" and info.get("data_dir"):
            pid = pg_service.server_pid(Path(info["data_dir"]))
        running = pid_alive(pid) and port_open(int(info.get("port") or 0))
        return ServiceStatus(name, "running" if running else "stopped", address)

    def external(name: str, address: str, default_port: int, probe: bool = True) -> ServiceStatus:
        up = not probe or _reachable(address, default_port)
        return ServiceStatus(name, "external" if up else "unreachable", address)

    pg_address = f"{settings.pg_host}:{settings.pg_port}"
    if settings.external_postgres:
        rows.append(external("postgres", pg_address, 5432))
    else:
        rows.append(local("postgres", pg_address))
    if settings.external_s3:
        # Real AWS (no endpoint) is not probed: its reachability is not ours to report.
        rows.append(external("s3", settings.s3_endpoint or "AWS", 443,
                             probe=settings.s3_endpoint is not None))
    else:
        rows.append(local("s3", settings.s3_endpoint or "-"))
    if settings.external_kafka:
        rows.append(external("kafka", settings.bootstrap_servers, 9092))
    else:
        rows.append(local("kafka", settings.bootstrap_servers))
    return rows


def env_lines(settings: Settings) -> list[str]:
    """`export` lines for a plain shell (dbt, psql, boto3, kcat all read these)."""
    return [f"export {k}={shlex.quote(v)}" for k, v in settings.as_env().items()]


__all__ = ["ServiceError", "ServiceStatus", "down", "env_lines", "provision", "status", "up"]
