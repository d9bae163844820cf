"""Rehearse docker-compose.yml without a Docker engine.

For every salespipe service of the compose file: take its exact command and its exact
environment (plus the Dockerfile's `ENV` lines), replace the compose host names (`postgres`,
`s3`, `kafka`) by the addresses of a stack of real services private to this module, run it,
and check that it did its job. The private stack stands in for the images: its own embedded
PostgreSQL (given the image's POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, as the image
does), its own moto S3 server and its own Kafka broker, so the compose defaults (`sales.files`,
group `sales-loader`, database `salespipe`, bucket `sales-reports`) are used as they are
without touching the checkout's own services. Published ports are remapped to free ones, as
`ports:` does. The tests run in file order, one service after another, as compose starts them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from cli.local import postgres as pg_service
from cli.local import s3 as s3_service
from cli.local.process import free_port, stop_pid
from salespipe.settings import LOCAL_PG_PASSWORD, LOCAL_PG_USER, state_dir
from tests.integration.kafka_cluster import start_own_broker

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
IMAGE_WORKDIR = "/app"
WAIT_SECONDS = 300
DAYS, ROWS = 7, 2000  # what the compose generator service asks for (checked below)


def dockerfile_env() -> dict[str, str]:
    """`ENV K=V ...` lines of the Dockerfile, with the image's /app mapped to the checkout."""
    env: dict[str, str] = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value.replace(IMAGE_WORKDIR, str(ROOT))
    return env


@dataclass
class Stack:
    """The private services and the processes started from the compose file."""

    base: Path
    ports: dict[str, int]  # compose service name -> local port
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    host_ports: dict[str, int] = field(default_factory=dict)  # compose service -> remapped

    @property
    def server(self) -> dict[str, str]:
        return SERVICES["postgres"]["environment"]

    def connect(self, dbname: str | None = None) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.ports["postgres"],
                               user=self.server["POSTGRES_USER"],
                               password=self.server["POSTGRES_PASSWORD"],
                               dbname=dbname or self.server["POSTGRES_DB"], autocommit=True)

    def env(self, service: str) -> dict[str, str]:
        """The service's compose environment, pointed at the private stack."""
        compose_env = {k: str(v) for k, v in SERVICES[service]["environment"].items()}
        mapped = {}
        for key, value in compose_env.items():
            for host, port in self.ports.items():
                container_port = _container_port(host)
                value = value.replace(f"{host}:{container_port}", f"127.0.0.1:{port}")
            mapped[key] = value
        if mapped.get("POSTGRES_HOST") == "postgres":
            assert mapped["POSTGRES_PORT"] == str(_container_port("postgres"))
            mapped["POSTGRES_HOST"] = "127.0.0.1"
            mapped["POSTGRES_PORT"] = str(self.ports["postgres"])
        leftover = {k: v for k, v in mapped.items()
                    if re.search(rf"(^|//)({'|'.join(map(re.escape, SERVICES))})(:|$)", v)}
        assert not leftover, f"{service}: unmapped compose host names {leftover}"
        venv_bin = str(Path(sys.executable).parent)
        return {"PATH": f"{venv_bin}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/"),
                "LANG": "C.UTF-8", **dockerfile_env(), **mapped}

    def command(self, service: str) -> list[str]:
        """The exact command; a published container port is remapped to a free host port."""
        command = [str(a) for a in SERVICES[service]["command"]]
        published = {str(p).split(":")[-1] for p in SERVICES[service].get("ports", [])}
        for i, arg in enumerate(command[:-1]):
            if arg == "--port" and command[i + 1] in published:
                self.host_ports[service] = free_port()
                command[i + 1] = str(self.host_ports[service])
        return command

    def log(self, service: str) -> Path:
        return self.base / f"{service}.log"

    def start(self, service: str) -> subprocess.Popen[bytes]:
        with open(self.log(service), "wb") as out:
            process = subprocess.Popen(  # noqa: S603 - the compose file's own command
                self.command(service), env=self.env(service), cwd=self.base, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes[service] = process
        return process

    def run(self, service: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - the compose file's own command
            self.command(service), env=self.env(service), cwd=self.base, capture_output=True,
            text=True, timeout=WAIT_SECONDS, check=False)

    def wait_for(self, what: str, check: Callable[[], bool], *services: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if check():
                return
            for name in services:
                process = self.processes[name]
                if process.poll() is not None:
                    pytest.fail(f"{name} exited with {process.returncode}: "
                                f"{self.log(name).read_text()[-3000:]}")
            time.sleep(1)
        logs = {name: self.log(name).read_text()[-2000:] for name in services}
        pytest.fail(f"{what}: not within {WAIT_SECONDS} s; logs: {logs}")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _container_port(service: str) -> int:
    """The port the components use for a compose service, read from their environment."""
    env = SERVICES["loader"]["environment"]
    found = {
        "postgres": int(env["POSTGRES_PORT"]),
        "s3": int(env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]),
        "kafka": int(env["BOOTSTRAP_SERVERS"].rsplit(":", 1)[1]),
    }
    return found[service]


def _mimic_postgres_image(port: int, server: dict[str, str]) -> None:
    """What the postgres image does on first start: POSTGRES_USER (superuser) with
    POSTGRES_PASSWORD owns a database POSTGRES_DB."""
    with psycopg.connect(host="127.0.0.1", port=port, user=LOCAL_PG_USER,
                         password=LOCAL_PG_PASSWORD, dbname="postgres", autocommit=True) as conn:
        user, password = server["POSTGRES_USER"], server["POSTGRES_PASSWORD"]
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (user,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(sql.SQL(verb + " role {} with superuser login password {}").format(
            sql.Identifier(user), sql.Literal(password)))
        conn.execute(sql.SQL("create database {} owner {}").format(
            sql.Identifier(server["POSTGRES_DB"]), sql.Identifier(user)))


@pytest.fixture(scope="module")
def stack(base_settings) -> Iterator[Stack]:
    # Under the checkout's state directory, like the local services: the server runs as an
    # unprivileged user when the tests run as root, and pytest's tmp directories are 0700.
    base = state_dir() / f"rehearsal-{uuid.uuid4().hex[:8]}"
    started: dict[str, dict[str, Any]] = {}
    try:
        started["postgres"] = pg_service.start(base / "postgres", {})
        started["s3"] = s3_service.start(base / "s3", {})
        started["kafka"] = start_own_broker(base / "kafka")
        ports = {name: int(info["port"]) for name, info in started.items()}
        _mimic_postgres_image(ports["postgres"], SERVICES["postgres"]["environment"])
        stack = Stack(base, ports)
        yield stack
        stack.stop_all()
    finally:
        if "kafka" in started:
            stop_pid(int(started["kafka"]["pid"]), timeout=30)
        if "s3" in started:
            stop_pid(int(started["s3"]["pid"]))
        if "postgres" in started:
            pg_service.stop(started["postgres"])
        shutil.rmtree(base, ignore_errors=True)


# Each step of `docker compose up` is a fixture that runs once per module and asks for the
# steps it needs, so every test stands alone (`-k` picks any of them) and the file still
# rehearses the services in their compose order.
@pytest.fixture(scope="module")
def initialized(stack: Stack) -> subprocess.CompletedProcess[str]:
    return stack.run("init")


@pytest.fixture(scope="module")
def generated(stack: Stack, initialized) -> subprocess.CompletedProcess[str]:
    assert initialized.returncode == 0, initialized.stderr[-3000:]
    return stack.run("generator")


@pytest.fixture(scope="module")
def watching(stack: Stack, generated) -> Stack:
    assert generated.returncode == 0, generated.stderr[-3000:]
    stack.start("watcher")
    return stack


@pytest.fixture(scope="module")
def docs(stack: Stack, initialized) -> subprocess.Popen:
    assert initialized.returncode == 0, initialized.stderr[-3000:]
    return stack.start("dbt-docs")


@pytest.fixture(scope="module")
def built(stack: Stack, watching) -> Stack:
    """The loader started, every generated file loaded and a build covering all of them done."""
    stack.start("loader")

    def done() -> bool:
        with stack.connect() as conn:
            if conn.execute("select to_regclass('marts.pipeline_freshness')").fetchone() == (None,):
                return False
            loaded = conn.execute("select count(*), coalesce(sum(rows_total), 0) from raw.files "
                                  "where status = 'loaded'").fetchone()
            behind = conn.execute("select is_dbt_behind from marts.pipeline_freshness").fetchone()
        return loaded == (DAYS, DAYS * ROWS) and behind == (False,)

    stack.wait_for("every file loaded and the marts built", done, "loader")
    return stack


def _s3(stack: Stack, service: str) -> Any:
    import boto3
    from botocore.config import Config

    env = stack.env(service)
    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def _incoming_keys(stack: Stack) -> list[str]:
    listing = _s3(stack, "generator").list_objects_v2(Bucket="sales-reports", Prefix="incoming/")
    return sorted(o["Key"] for o in listing.get("Contents", []))


def _http(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def _healthcheck(stack: Stack, service: str) -> list[str]:
    """The service's healthcheck command, its port mapped to the private server's."""
    test = [str(a) for a in SERVICES[service]["healthcheck"]["test"]]
    assert test[0] == "CMD", test
    command = test[1:]
    command[0] = str(pg_service._bin(command[0]))
    command[command.index("-p") + 1] = str(stack.ports[service])
    return command


def _pg_ctl(stack: Stack, *args: str) -> None:
    data = stack.base / "postgres" / "data"
    pg_service._run([str(pg_service._bin("pg_ctl")), "-D", str(data), "-w", *args], timeout=90)


def test_postgres_healthcheck_waits_for_tcp_not_the_init_socket(stack):
    # What the image does on first start: a temporary server on the unix socket only.
    sockets = stack.base / "postgres" / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:  # the server runs as an unprivileged user then
        shutil.chown(sockets, user=pg_service._RUN_AS)
    port = stack.ports["postgres"]
    _pg_ctl(stack, "-m", "fast", "stop")
    _pg_ctl(stack, "-l", str(sockets / "init.log"), "-o",
            f"-c listen_addresses='' -p {port} -c unix_socket_directories='{sockets}'", "start")
    try:
        on_socket = subprocess.run([str(pg_service._bin("pg_isready")), "-h", str(sockets),
                                    "-p", str(port)], capture_output=True, timeout=30)
        during_init = subprocess.run(_healthcheck(stack, "postgres"), capture_output=True,
                                     timeout=30)
    finally:
        pg_service.stop({"data_dir": str(stack.base / "postgres" / "data")})
        pg_service.start(stack.base / "postgres", {"port": port})

    assert on_socket.returncode == 0  # a socket check would call this server healthy
    assert during_init.returncode != 0
    after = subprocess.run(_healthcheck(stack, "postgres"), capture_output=True, timeout=30)
    assert after.returncode == 0, after.stdout


def test_init_creates_bucket_topics_schema_and_roles_on_the_external_services(stack, initialized):
    from confluent_kafka.admin import AdminClient

    result = initialized

    assert result.returncode == 0, result.stderr[-3000:]
    # Every service is external: nothing local was started.
    assert " up " not in result.stdout, result.stdout
    assert "created bucket sales-reports" in result.stdout
    _s3(stack, "init").head_bucket(Bucket="sales-reports")
    admin = AdminClient({"bootstrap.servers": stack.env("init")["BOOTSTRAP_SERVERS"]})
    topics = admin.list_topics(timeout=30).topics
    assert {"sales.files", "sales.files.dlq", "sales.loads"} <= set(topics)
    with stack.connect() as conn:
        assert conn.execute("select to_regclass('raw.files') is not null").fetchone() == (True,)
        roles = {r for (r,) in conn.execute("select rolname from pg_roles where rolname like "
                                           "'salespipe\\_%'")}
    assert {"salespipe_loader", "salespipe_transform", "salespipe_dashboard"} <= roles


def test_generator_uploads_a_week_of_files(stack, generated):
    assert SERVICES["generator"]["command"][-4:] == ["--days", str(DAYS), "--rows", str(ROWS)]

    result = generated

    assert result.returncode == 0, result.stderr[-3000:]
    keys = _incoming_keys(stack)
    assert len(keys) == DAYS
    assert all(re.fullmatch(r"incoming/sales_\d{4}-\d{2}-\d{2}\.csv", k) for k in keys)


def test_watcher_announces_every_new_object(stack, watching):
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": stack.env("watcher")["BOOTSTRAP_SERVERS"],
                         "group.id": f"rehearsal-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["sales.files"])
    announced: set[str] = set()

    def all_announced() -> bool:
        for message in consumer.consume(num_messages=100, timeout=1):
            if message.error() is None:
                for record in json.loads(message.value())["Records"]:
                    announced.add(record["s3"]["object"]["key"])
        return len(announced) >= DAYS

    try:
        stack.wait_for("the watcher announcing every object", all_announced, "watcher")
    finally:
        consumer.close()
    assert announced == set(_incoming_keys(stack))


def test_docs_waits_while_no_dbt_build_has_completed(stack, docs):
    # Asks for no loader: in file order (and alone) it runs before `built` starts one.
    stack.wait_for("the docs service logging that it waits",
                   lambda: "event=docs_waiting" in stack.log("dbt-docs").read_text(), "dbt-docs")

    assert docs.poll() is None
    assert _http(f"http://127.0.0.1:{stack.host_ports['dbt-docs']}/")[0] == 0


def test_loader_loads_every_file_and_builds_the_marts(stack, built):
    with stack.connect() as conn:
        days = conn.execute("select count(*) from marts.kpi_daily_sales").fetchone()
        durations = conn.execute("select duration_seconds from marts.dbt_runs").fetchall()
    assert days == (DAYS,)
    assert durations and all(seconds > 0 for (seconds,) in durations)


def test_docs_serve_a_catalog_of_the_built_marts(stack, docs, built):
    url = f"http://127.0.0.1:{stack.host_ports['dbt-docs']}"
    stack.wait_for("the docs site answering", lambda: _http(f"{url}/catalog.json")[0] == 200,
                   "dbt-docs")

    catalog = json.loads(_http(f"{url}/catalog.json")[1])
    assert "model.dbt_sales.kpi_daily_sales" in catalog["nodes"]
    assert _http(f"{url}/")[0] == 200


def test_dashboard_answers_http(stack, initialized):
    stack.start("dashboard")
    url = f"http://127.0.0.1:{stack.host_ports['dashboard']}"

    stack.wait_for("the dashboard's health check",
                   lambda: _http(f"{url}/_stcore/health") == (200, b"ok"), "dashboard")
    status, body = _http(f"{url}/")
    assert status == 200
    assert b"<noscript>" in body or b"streamlit" in body.lower()
    assert _http(f"{url}/pipeline")[0] == 200
