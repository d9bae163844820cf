"""A real Apache Kafka broker (KRaft, one combined node) from Maven Central jars.

The jars are resolved once with `mvn dependency:copy-dependencies` from `kafka-pom.xml`
and cached under `.salespipe/kafka/libs`; the broker runs with `java -cp`.

Besides the PLAINTEXT listener the local pipeline uses, the broker has a SASL_SSL listener
(PLAIN, a self-signed certificate made with `keytool`), the way hosted Kafka is reached, so
the clients' SASL_SSL path is tested on a real broker too.
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

from cli.local.process import (
    ServiceError,
    free_port,
    pid_alive,
    port_open,
    spawn,
    stop_pid,
    wait_until,
)

HEAP = "-Xmx512m"
# Local-only credentials of the SASL_SSL listener (like the local PostgreSQL password).
# The second user has no rights: it shows how an authorization error looks.
LOCAL_SASL_USER = "salespipe"
LOCAL_SASL_PASSWORD = "salespipe-local-sasl"  # noqa: S105 - local broker only
LOCAL_SASL_UNAUTHORIZED_USER = "salespipe-no-rights"
# Bumped when the broker's configuration changes: a running broker of an older one restarts.
CONFIG_VERSION = 2
_KEYSTORE_PASSWORD = "salespipe-local-keystore"  # noqa: S105 - local broker only


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
    pom = resources.files("cli.local") / "kafka-pom.xml"
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


def _make_certificate(base: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (keystore for the broker, PEM for
    the clients' `KAFKA_SSL_CA_LOCATION`), made once."""
    keystore, pem = base / "broker.p12", base / "ca.pem"
    if keystore.exists() and pem.exists():
        return keystore, pem
    if shutil.which("keytool") is None:
        raise ServiceError("Kafka's SASL_SSL listener needs `keytool` (part of OpenJDK) on PATH")
    keystore.unlink(missing_ok=True)
    common = ["-alias", "broker", "-keystore", str(keystore), "-storepass", _KEYSTORE_PASSWORD]
    for args in (
        ["-genkeypair", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
         "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
         "-storetype", "PKCS12", "-keypass", _KEYSTORE_PASSWORD],
        ["-exportcert", "-rfc", "-file", str(pem)],
    ):
        result = subprocess.run(["keytool", *args, *common],  # noqa: S603, S607 - fixed argv
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise ServiceError(f"keytool failed: {(result.stdout + result.stderr).strip()[-300:]}")
    return keystore, pem


def _write_config(base: Path, port: int, cport: int, sport: int, keystore: Path) -> Path:
    data = base / "data"
    props = base / "server.properties"
    jaas = (f'org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="{LOCAL_SASL_USER}" password="{LOCAL_SASL_PASSWORD}" '
            f'user_{LOCAL_SASL_USER}="{LOCAL_SASL_PASSWORD}" '
            f'user_{LOCAL_SASL_UNAUTHORIZED_USER}="{LOCAL_SASL_PASSWORD}";')
    props.write_text("\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{cport}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport},"
        f"SASL_SSL://127.0.0.1:{sport}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{sport}",
        "inter.broker.listener.name=PLAINTEXT",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
        "SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms=PLAIN",
        f"listener.name.sasl_ssl.plain.sasl.jaas.config={jaas}",
        f"ssl.keystore.location={keystore}",
        "ssl.keystore.type=PKCS12",
        f"ssl.keystore.password={_KEYSTORE_PASSWORD}",
        f"ssl.key.password={_KEYSTORE_PASSWORD}",
        # ACLs: the PLAINTEXT and controller listeners (ANONYMOUS) and the local SASL user may
        # do anything; the unauthorized user nothing.
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users=User:ANONYMOUS;User:{LOCAL_SASL_USER}",
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


def new_cluster_id() -> str:
    """A random KRaft cluster id that never starts with "-".

    The id is 16 random bytes in URL-safe base64, so one in 64 would start with
    "-" and StorageTool's argument parser would read it as an option and fail the
    format. Kafka's own Uuid.randomUuid skips such ids for the same reason.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


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
        if previous.get("config_version") == CONFIG_VERSION:
            return previous
        stop_pid(int(pid or 0), timeout=30)  # started with an older configuration
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
    sport = int(previous.get("sasl_port") or 0)
    if not sport or port_open(sport) or sport in (port, cport):
        sport = free_port()
    keystore, pem = _make_certificate(base)
    props = _write_config(base, port, cport, sport, keystore)
    if not (base / "data" / "meta.properties").exists():
        cluster_id = new_cluster_id()
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
    wait_until(lambda: port_open(sport) or not pid_alive(pid), 30, "Kafka's SASL_SSL listener")
    return {"pid": pid, "port": port, "controller_port": cport, "sasl_port": sport,
            "ca_location": str(pem), "config_version": CONFIG_VERSION}
