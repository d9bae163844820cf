"""Reads for the Pipeline page: marts through `data` (same pool, cache and errors), and the
loader's lag from Kafka.

The lag is what the loader has not consumed yet: for each partition of `sales.files`, the end
offset minus the `sales-loader` group's committed offset (the whole partition when the group
has committed nothing there). It is read with a consumer that never subscribes, so it joins no
group and cannot disturb the loaders' assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboard import pipeline_queries as queries
from dashboard.data import CACHE_TTL_SECONDS, Marts, _frame, _to_float
from salespipe.logs import get_logger
from salespipe.settings import CONSUMER_GROUP, TOPIC_FILES, Settings

log = get_logger("dashboard.pipeline_data")

# The contract's names; tests point them at a topic and group of their own.
FILES_TOPIC = TOPIC_FILES
LOADER_GROUP = CONSUMER_GROUP
HISTORY_DAYS = 30
REJECTED_FILES_LIMIT = 100
DBT_RUNS_LIMIT = 50
_KAFKA_TIMEOUT_SECONDS = 5.0


class LagUnavailable(Exception):
    """Kafka did not answer (or the topic is missing); the page says so and retries."""


@dataclass(frozen=True)
class Lag:
    messages: int
    partitions: int


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _files_by_day(_engine: Engine, key: str, days: int) -> pd.DataFrame:
    return _frame(_engine, queries.FILES_BY_DAY, {"days": days})


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _file_totals(_engine: Engine, key: str) -> dict[str, int]:
    row = _frame(_engine, queries.FILE_TOTALS).iloc[0]
    return {k: int(v) for k, v in row.to_dict().items()}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _rejects_by_file(_engine: Engine, key: str) -> pd.DataFrame:
    return _frame(_engine, queries.REJECTS_BY_FILE, {"limit": REJECTED_FILES_LIMIT})


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _dbt_runs(_engine: Engine, key: str) -> pd.DataFrame:
    return _to_float(_frame(_engine, queries.DBT_RUNS, {"limit": DBT_RUNS_LIMIT}),
                     ["duration_seconds"])


def loader_lag(settings: Settings, *, topic: str, group: str) -> Lag:
    """Messages on `topic` the consumer group `group` has not committed yet."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    from salespipe.kafka import client_config

    consumer = Consumer(client_config(settings, **{
        "group.id": group, "enable.auto.commit": False,
        "socket.connection.setup.timeout.ms": int(_KAFKA_TIMEOUT_SECONDS * 1000),
    }))
    try:
        metadata = consumer.list_topics(topic, timeout=_KAFKA_TIMEOUT_SECONDS)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise LagUnavailable(f"topic {topic} not found")
        partitions = [TopicPartition(topic, p) for p in sorted(found.partitions)]
        committed = consumer.committed(partitions, timeout=_KAFKA_TIMEOUT_SECONDS)
        lag = 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, tp.partition), timeout=_KAFKA_TIMEOUT_SECONDS)
            start = tp.offset if tp.offset >= 0 else low
            lag += max(0, high - start)
        return Lag(messages=lag, partitions=len(partitions))
    except KafkaException as exc:
        raise LagUnavailable(str(exc.args[0]) if exc.args else type(exc).__name__) from exc
    finally:
        consumer.close()


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _loader_lag(_settings: Settings, key: str, topic: str, group: str) -> Lag:
    return loader_lag(_settings, topic=topic, group=group)


@dataclass(frozen=True)
class PipelineReads:
    """Cached reads of one database's pipeline marts and of the loader's Kafka lag."""

    engine: Engine
    key: str
    settings: Settings

    @classmethod
    def connect(cls, settings: Settings) -> PipelineReads:
        marts = Marts.connect(settings)  # the same pooled engine as the sales page
        return cls(marts.engine, marts.key, settings)

    def files_by_day(self, days: int = HISTORY_DAYS) -> pd.DataFrame:
        """One row per UTC day and status with files and row counts, last `days` days."""
        return _files_by_day(self.engine, self.key, days)

    def file_totals(self) -> dict[str, int]:
        return _file_totals(self.engine, self.key)

    def rejects_by_file(self) -> pd.DataFrame:
        return _rejects_by_file(self.engine, self.key)

    def dbt_runs(self) -> pd.DataFrame:
        return _dbt_runs(self.engine, self.key)

    def loader_lag(self) -> Lag:
        kafka_key = f"{self.settings.bootstrap_servers}/{FILES_TOPIC}/{LOADER_GROUP}"
        return _loader_lag(self.settings, kafka_key, FILES_TOPIC, LOADER_GROUP)
