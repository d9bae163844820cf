"""A second, real PostgreSQL set up like a managed service, beside the embedded one.

Each cluster is initialised in a temporary directory on a free port, owned by a system user
(initdb and postgres refuse to run as root), with scram-sha-256 over TCP only. Its superuser
is used only to create what a cloud console creates: a login that is NOT a superuser, owns
its database and, unless told otherwise, has CREATEROLE. Roles are cluster-wide, so every
test gets a cluster of its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from cli.local.process import free_port
from salespipe import kafka
from salespipe.settings import Settings, load_settings
from tests.conftest import World

DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")


@dataclass
class Login:
    """What a cloud console hands out: the five POSTGRES_* values."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def env(self) -> dict[str, str]:
        return {"POSTGRES_HOST": self.host, "POSTGRES_PORT": str(self.port),
                "POSTGRES_USER": self.user, "POSTGRES_PASSWORD": self.password,
                "POSTGRES_DB": self.dbname}

    def connect(self, **kwargs: object) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=self.dbname, **kwargs)


@dataclass
class Cluster:
    bin_dir: Path
    run_as: str
    base: Path
    port: int
    superuser_password: str = field(repr=False)

    @property
    def data(self) -> Path:
        return self.base / "data"

    def superuser(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                               password=self.superuser_password, dbname="postgres",
                               autocommit=True)

    def version(self) -> int:
        with self.superuser() as conn:
            return conn.info.server_version

    def app_login(self, name: str = "app", *, createrole: bool = True) -> Login:
        """A non-superuser login owning a database of the same name."""
        password = f"pw-{uuid.uuid4().hex}"
        with self.superuser() as conn:
            conn.execute(sql.SQL("create role {} login password {} {}").format(
                sql.Identifier(name), sql.Literal(password),
                sql.SQL("createrole" if createrole else "nocreaterole")))
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(name), sql.Identifier(name)))
        return Login("127.0.0.1", self.port, name, password, name)

    def run(self, *args: str, timeout: float = 120) -> None:
        cmd = [*self._as_owner(), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,  # noqa: S603
                              cwd="/")
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed: {proc.stdout}{proc.stderr}")

    def _as_owner(self) -> list[str]:
        return ["runuser", "-u", self.run_as, "--"] if os.geteuid() == 0 else []

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                     "stop", timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


def start_cluster(bin_dir: Path, run_as: str) -> Cluster:
    if not (bin_dir / "initdb").exists():
        raise RuntimeError(f"no PostgreSQL server in {bin_dir}: run `make test` (it installs "
                           "postgresql-15) or `apt-get install postgresql-15`")
    base = Path(tempfile.mkdtemp(prefix="salespipe-pg-"))
    cluster = Cluster(bin_dir, run_as, base, free_port(), f"su-{uuid.uuid4().hex}")
    if os.geteuid() == 0:
        owner = pwd.getpwnam(run_as)
        os.chown(base, owner.pw_uid, owner.pw_gid)
    pwfile = base / "pwfile"
    pwfile.write_text(cluster.superuser_password + "\n")
    if os.geteuid() == 0:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    try:
        cluster.run(str(bin_dir / "initdb"), "-D", str(cluster.data), "-U", "postgres",
                    f"--pwfile={pwfile}", "--auth-local=reject", "--auth-host=scram-sha-256",
                    "--encoding=UTF8", "--locale=C.UTF-8")
    finally:
        pwfile.unlink(missing_ok=True)
    opts = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} -c unix_socket_directories='' "
            "-c max_connections=60 -c shared_buffers=32MB -c fsync=off")
    cluster.run(str(bin_dir / "pg_ctl"), "-D", str(cluster.data), "-l",
                str(cluster.base / "server.log"), "-o", opts, "-w", "-t", "60", "start")
    return cluster


def clusters(bin_dir: Path, run_as: str) -> Iterator[object]:
    """A factory fixture body: yields `new()` for fresh clusters, stops them all at the end."""
    started: list[Cluster] = []

    def new() -> Cluster:
        cluster = start_cluster(bin_dir, run_as)
        started.append(cluster)
        return cluster

    try:
        yield new
    finally:
        for cluster in started:
            cluster.stop()


# -- a deployment on such a server ------------------------------------------------------------

BIN = Path(sys.executable).parent
SALESPIPE = str(BIN / "salespipe")
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
ROLES = ("salespipe_loader", "salespipe_transform", "salespipe_dashboard")


def managed_env(base_settings: Settings, login: Login, bucket: str) -> dict[str, str]:
    """The process environment of a deployment: the five variables plus the local S3/Kafka,
    and nothing else about PostgreSQL (no component credentials, no dbt variables)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTGRES_", "DBT_"))}
    services = base_settings.as_env()
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                 "BOOTSTRAP_SERVERS"):
        if name in services:
            env[name] = services[name]
    env.update(login.env(), BUCKET_NAME=bucket, DO_NOT_TRACK="1")
    return env


def salespipe(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([SALESPIPE, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def managed_world(env: dict[str, str]) -> World:
    settings = load_settings(**{k: env[k] for k in (
        "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
        "BUCKET_NAME")})
    suffix = uuid.uuid4().hex[:8]
    files, dlq, loads = (f"t.managed.{suffix}.{t}" for t in ("files", "dlq", "loads"))
    kafka.ensure_topics(settings, wanted={files: 1, dlq: 1, loads: 1})
    return World(settings, files, dlq, loads, env)
