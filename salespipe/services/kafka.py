"""A real Apache Kafka broker (KRaft, one combined node) from Maven Central jars.

The jars are resolved once with `mvn dependency:copy-dependencies` from `kafka-pom.xml`
and cached under `.salespipe/kafka/libs`; the broker runs with `java -cp`.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

from salespipe.services.process import (
    ServiceError,
    free_port,
    pid_alive,
    port_open,
    spawn,
    wait_until,
)

HEAP = "-Xmx512m"


def check_tools() -> None:
    if shutil.which("java") is None:
        raise ServiceError(
            "Kafka needs `java` on PATH: install OpenJDK 17+ (apt-get install openjdk-17-jre-headless)"
            " or set BOOTSTRAP_SERVERS to an existing broker"
        )


def _resolve_jars(libs: Path) -> None:
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return
    if shutil.which("mvn") is None:
        raise ServiceError(
            "Kafka jars are resolved with Maven: install it (apt-get install maven)"
            " or set BOOTSTRAP_SERVERS to an existing broker"
        )
    pom = resources.files("salespipe.services") / "kafka-pom.xml"
    tmp = libs.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with resources.as_file(pom) as pom_path:
        result = subprocess.run(  # noqa: S603 - fixed argv
            ["mvn", "-q", "-B", "-f", str(pom_path), "dependency:copy-dependencies",
             "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"],
            capture_output=True, text=True, timeout=900,
        )
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        raise ServiceError(f"mvn could not resolve the Kafka jars: {tail}")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)


def _write_config(base: Path, port: int, cport: int) -> Path:
    data = base / "data"
    props = base / "server.properties"
    props.write_text("\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{cport}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "inter.broker.listener.name=PLAINTEXT",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}",
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=4",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "log.retention.hours=168",
        "",
    ]))
    log4j = base / "log4j2.properties"
    log4j.write_text("\n".join([
        "status = error",
        "appender.file.type = File",
        "appender.file.name = FILE",
        f"appender.file.fileName = {base / 'server.log'}",
        "appender.file.layout.type = PatternLayout",
        "appender.file.layout.pattern = [%d] %p %m (%c)%n",
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.file.ref = FILE",
        "logger.kafka.name = kafka",
        "logger.kafka.level = WARN",
        "logger.apache.name = org.apache.kafka",
        "logger.apache.level = WARN",
        "logger.started.name = kafka.server.KafkaRaftServer",
        "logger.started.level = INFO",
        "",
    ]))
    return props


def _java(libs: Path, base: Path, *args: str) -> list[str]:
    return ["java", HEAP, "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={base / 'log4j2.properties'}",
            "-cp", f"{libs}/*", *args]


def data_dir_in_use(data: Path) -> bool:
    """True while a broker holds the log directory's lock (Kafka takes an fcntl lock on .lock).

    Starting a second broker on the same directory is not harmless: its controller writes to
    the shared metadata log before the broker part fails on the lock.
    """
    lock = data / ".lock"
    if not lock.exists():
        return False
    with open(lock, "a") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(fh, fcntl.LOCK_UN)
    return False


def start(base: Path, previous: dict[str, Any]) -> dict[str, Any]:
    pid, port = previous.get("pid"), int(previous.get("port") or 0)
    if pid_alive(pid) and port and port_open(port):
        return previous
    if data_dir_in_use(base / "data"):
        raise ServiceError(
            f"a Kafka broker not recorded in .salespipe/services.json uses {base / 'data'}; "
            "stop it first (e.g. `pkill -f kafka.Kafka`)"
        )
    check_tools()
    base.mkdir(parents=True, exist_ok=True)
    libs = base / "libs"
    _resolve_jars(libs)
    cport = int(previous.get("controller_port") or 0)
    if not port or port_open(port):
        port = free_port()
    if not cport or port_open(cport) or cport == port:
        cport = free_port()
    props = _write_config(base, port, cport)
    if not (base / "data" / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        result = subprocess.run(  # noqa: S603 - fixed argv
            _java(libs, base, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c",
                  str(props), "-g"), capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise ServiceError(f"Kafka storage format failed: {result.stderr.strip()[-300:]}")
    pid = spawn(_java(libs, base, "kafka.Kafka", str(props)), base / "stdout.log")
    wait_until(lambda: port_open(port) or not pid_alive(pid), 90, "Kafka")
    if not pid_alive(pid):
        raise ServiceError(f"Kafka exited at start; see {base / 'server.log'}")
    return {"pid": pid, "port": port, "controller_port": cport}
