"""versitygw, a second real S3 server (Apache-2.0, one Go binary that `make test` and
`make bench` build into .venv/bin), over a throw-away POSIX directory. Unlike moto it can
publish its own bucket notifications to Kafka, as a store that notifies Kafka does in
production; the tests and the watcher benchmark start one each (`services up` does not)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from cli.local.process import ScratchServer, free_port, port_open, wait_until

VERSITYGW = Path(sys.executable).parent / "versitygw"
ACCESS_KEY, SECRET_KEY = "salespipe-test", "salespipe-test-secret"


@dataclass
class Gateway(ScratchServer):
    """A running versitygw: its S3 endpoint `url`, data under `base`, log `versitygw.log`."""

    url: str = ""


def start_gateway(*, kafka_url: str | None = None, topic: str | None = None) -> Gateway:
    """versitygw on a free loopback port; with `kafka_url` and `topic` (which must exist) it
    publishes every bucket event there."""
    if not VERSITYGW.exists():
        raise RuntimeError("no versitygw: run `make versitygw` (it builds it with Go into .venv/bin)")
    if bool(kafka_url) != bool(topic):
        raise ValueError("versitygw publishes events only with both a Kafka address and a topic")
    base = Path(tempfile.mkdtemp(prefix="salespipe-versitygw-"))
    (base / "data").mkdir()
    (base / "meta").mkdir()
    port = free_port()
    cmd = [str(VERSITYGW), "--port", f"127.0.0.1:{port}", "--quiet"]
    if kafka_url and topic:
        cmd += ["--event-kafka-url", kafka_url, "--event-kafka-topic", topic]
    cmd += ["posix", "--sidecar", str(base / "meta"), str(base / "data")]
    env = {**os.environ, "ROOT_ACCESS_KEY": ACCESS_KEY, "ROOT_SECRET_KEY": SECRET_KEY}
    log = (base / "versitygw.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    gateway = Gateway(proc, base, "versitygw.log", url=f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 30, "versitygw")
        if proc.poll() is not None:
            raise RuntimeError(f"versitygw exited: {gateway.log}")
    except Exception:
        gateway.stop()
        raise
    return gateway


def settings_for(gateway: Gateway, settings: object) -> object:
    """`settings` with S3 pointed at the gateway (an external S3, as far as salespipe knows)."""
    return settings.model_copy(update={  # type: ignore[attr-defined]
        "AWS_ENDPOINT_URL": gateway.url, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SecretStr(SECRET_KEY)})
