"""S3 API on loopback from the moto server (in-memory: objects live as long as the process)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cli.local.process import ServiceError, free_port, pid_alive, port_open, spawn, wait_until


def start(base: Path, previous: dict[str, Any]) -> dict[str, Any]:
    pid, port = previous.get("pid"), int(previous.get("port") or 0)
    if pid_alive(pid) and port and port_open(port):
        return previous
    if not port or port_open(port):
        port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists():
        raise ServiceError(
            "the local S3 server needs the `local` extra: pip install 'salespipe[local]'"
            " (make install does), or set AWS_ENDPOINT_URL / AWS credentials for a real one"
        )
    pid = spawn([str(moto), "-H", "127.0.0.1", "-p", str(port)], base / "moto.log")
    wait_until(lambda: port_open(port), 30, "S3 (moto server)")
    return {"pid": pid, "port": port}
