"""A local three-broker KRaft cluster for tests, run like hosted Kafka is: every topic with
replication factor 3 and `min.insync.replicas=2`, so one broker may die without losing writes.
`default_replication_factor` sets the brokers' `default.replication.factor` (what a topic
created without one gets); tests of that default pick a value no hard-coded 1 or 3 could meet.

Built from the same Maven jars as the single local broker (`salespipe services up` resolves
them). Each node is a combined broker + controller with static voters.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cli.local.kafka import _java, _resolve_jars, new_cluster_id
from cli.local.process import free_port, pid_alive, port_open, spawn, wait_until
from salespipe.settings import state_dir

LOG4J = """status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
"""


@dataclass
class Node:
    node_id: int
    port: int
    controller_port: int
    base: Path
    pid: int | None = None


@dataclass
class KafkaCluster:
    base: Path
    size: int = 3
    default_replication_factor: int = 3
    nodes: list[Node] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def node(self, node_id: int) -> Node:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start(self) -> None:
        libs = state_dir() / "kafka" / "libs"
        _resolve_jars(libs)
        self.libs = libs
        self.nodes = [Node(i, free_port(), free_port(), self.base / f"node{i}")
                      for i in range(1, self.size + 1)]
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        cluster_id = new_cluster_id()
        for n in self.nodes:
            n.base.mkdir(parents=True)
            (n.base / "log4j2.properties").write_text(LOG4J.format(log=n.base / "server.log"))
            props = n.base / "server.properties"
            props.write_text("\n".join([
                "process.roles=broker,controller",
                f"node.id={n.node_id}",
                f"controller.quorum.voters={voters}",
                f"listeners=PLAINTEXT://127.0.0.1:{n.port},CONTROLLER://127.0.0.1:{n.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{n.port}",
                "inter.broker.listener.name=PLAINTEXT",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={n.base / 'data'}",
                f"default.replication.factor={self.default_replication_factor}",
                "min.insync.replicas=2",
                "offsets.topic.replication.factor=3",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=3",
                "transaction.state.log.min.isr=2",
                "share.coordinator.state.topic.replication.factor=3",
                "share.coordinator.state.topic.min.isr=2",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                # A dead broker leaves the ISR after this long; hosted defaults are similar.
                "replica.lag.time.max.ms=10000",
                "",
            ]))
            subprocess.run(  # noqa: S603 - fixed argv
                _java(libs, n.base, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                      "-c", str(props)),
                check=True, capture_output=True, timeout=120,
            )
        for n in self.nodes:
            n.pid = spawn(_java(libs, n.base, "kafka.Kafka", str(n.base / "server.properties")),
                          n.base / "stdout.log")
        for n in self.nodes:
            wait_until(lambda n=n: port_open(n.port) or not pid_alive(n.pid), 120, f"broker {n.node_id}")
            assert pid_alive(n.pid), (n.base / "server.log").read_text()[-2000:]

    def kill(self, node_id: int) -> None:
        """SIGKILL, as a crashed machine: no controlled shutdown, no leadership hand-over."""
        node = self.node(node_id)
        assert node.pid is not None
        os.kill(node.pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(node.pid), 30, f"broker {node_id} to die")

    def stop(self) -> None:
        for n in self.nodes:
            if n.pid and pid_alive(n.pid):
                os.kill(n.pid, signal.SIGKILL)
        for n in self.nodes:
            if n.pid:
                try:
                    os.waitpid(n.pid, 0)
                except ChildProcessError:
                    pass


def start_own_broker(base: Path, previous: dict | None = None) -> dict:
    """One broker in `base`, started by the code and configuration `salespipe services up`
    uses, for a test that stops it or runs a stack of its own. It shares the jars `services
    up` resolved; with an external broker there are none, and it resolves its own."""
    from cli.local import kafka as kafka_service

    base.mkdir(parents=True, exist_ok=True)
    jars = state_dir() / "kafka" / "libs"
    if jars.is_dir() and not (base / "libs").exists():
        (base / "libs").symlink_to(jars)
    return kafka_service.start(base, previous or {})
