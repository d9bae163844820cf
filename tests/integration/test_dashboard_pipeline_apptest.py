"""The Pipeline page, run headless with Streamlit's AppTest on real PostgreSQL and Kafka.

Hand-made marts, relative to today (UTC) because the page shows the last 30 days:

    file  key                      status    loaded            rows  rejected
    1     incoming/sales_a.csv     loaded    yesterday 10:00    100    3   (qty 2, date 1)
    2     incoming/sales_b.csv     loaded    yesterday 11:00     50    0
    3     incoming/sales_c.csv     loaded    today 00:20         80    2   (price 2)
    4     incoming/export.xlsx     rejected  today 00:30          0    0   not a CSV file
    5     incoming/sales_old.csv   loaded    40 days ago         10    0   (outside 30 days)

    dbt builds: 10 min ago (3 new files, 4.20 s), 2 min ago (1 new file, 2.50 s)
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import pipeline_data
from tests.conftest import make_world
from tests.integration import dashboard_support as support

pytestmark = pytest.mark.integration

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "pipeline.py")
QTY = "quantity_sold: not a positive integer"


def _files(now: dt.datetime) -> tuple[tuple, ...]:
    """dq_files rows placed relative to `now` (taken when the fixture runs, not at import):
    two files a day ago, two in the last hour, one 40 days ago (outside the 30-day chart)."""
    return (
        (1, "incoming/sales_a.csv", "loaded", None, 100, 97, 3, now - dt.timedelta(hours=26)),
        (2, "incoming/sales_b.csv", "loaded", None, 50, 50, 0, now - dt.timedelta(hours=25)),
        (3, "incoming/sales_c.csv", "loaded", None, 80, 78, 2, now - dt.timedelta(minutes=40)),
        (4, "incoming/export.xlsx", "rejected", "not a CSV file", 0, 0, 0,
         now - dt.timedelta(minutes=30)),
        (5, "incoming/sales_old.csv", "loaded", None, 10, 10, 0, now - dt.timedelta(days=40)),
    )


def _rejected_rows(files: tuple[tuple, ...]) -> tuple[tuple, ...]:
    day = {f[1]: f[7].astimezone(dt.UTC).date() for f in files}
    return (
        (day["incoming/sales_a.csv"], "incoming/sales_a.csv", QTY, 2),
        (day["incoming/sales_a.csv"], "incoming/sales_a.csv", "sale_date: missing", 1),
        (day["incoming/sales_c.csv"], "incoming/sales_c.csv", "unit_price: negative", 2),
    )


class PipeWorld(NamedTuple):
    settings: Any
    topic: str
    group: str
    files: tuple[tuple, ...]


def _dbt_runs() -> tuple[tuple, ...]:
    now = dt.datetime.now(dt.UTC)
    return (
        (now - dt.timedelta(minutes=10), "inv-1", 3, Decimal("4.20")),
        (now - dt.timedelta(minutes=2, seconds=5), "inv-2", 1, Decimal("2.50")),
    )


@pytest.fixture(scope="module")
def pipe_world(base_settings):
    """A database with the marts above, and a files topic with 5 messages of which the
    page's consumer group committed 2: a lag of 3."""
    from confluent_kafka import Consumer, Producer

    from salespipe import kafka

    world = make_world(base_settings, "pipe")
    settings = support.database(base_settings, world.settings.pg_db)
    files = _files(dt.datetime.now(dt.UTC))
    support.create_marts(settings, files=files, rejected_rows=_rejected_rows(files),
                         dbt_runs=_dbt_runs())
    producer = Producer(kafka.producer_config(settings))
    for n in range(5):
        producer.produce(world.files_topic, json.dumps({"n": n}).encode(), key=str(n))
    assert producer.flush(30) == 0
    group = f"t-pipe-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(kafka.consumer_config(settings, group))
    consumer.subscribe([world.files_topic])
    consumed = []
    while len(consumed) < 2:
        message = consumer.poll(1)
        if message is not None and message.error() is None:
            consumed.append(message)
    for message in consumed:
        consumer.commit(message=message, asynchronous=False)
    consumer.close()
    return PipeWorld(settings, world.files_topic, group, files)


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def run_page(monkeypatch, pipe_world, *, lang: str, env: dict[str, str] | None = None
             ) -> AppTest:
    settings, topic, group, _ = pipe_world
    for key, value in (support.app_env(settings) | (env or {})).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(pipeline_data, "FILES_TOPIC", topic)
    monkeypatch.setattr(pipeline_data, "LOADER_GROUP", group)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> tuple[str, str | None]:
    for m in at.metric:
        if m.label == label:
            return m.value, (m.delta or None)
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


def table(at: AppTest, column: str) -> pd.DataFrame:
    found = [df.value for df in at.dataframe if column in df.value.columns]
    assert len(found) == 1, [list(df.value.columns) for df in at.dataframe]
    return found[0]


def test_headline_counts_files_lag_and_last_build_in_english(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="en")

    assert at.title[0].value == "Pipeline operations"
    assert metric(at, "Files loaded") == ("4", None)
    assert metric(at, "Files rejected") == ("1", "5 rejected row(s)")
    assert metric(at, "Loader lag") == ("3 message(s)", None)
    assert metric(at, "Last dbt build") == ("2 min ago", "took 2.5 s")


def test_headline_in_portuguese(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="pt-BR")

    assert at.title[0].value == "Operação do pipeline"
    assert metric(at, "Arquivos carregados") == ("4", None)
    assert metric(at, "Atraso do loader") == ("3 mensagem(ns)", None)
    assert metric(at, "Último build do dbt") == ("há 2 min", "levou 2,5 s")


def test_rejects_per_file_list_every_reason_newest_first(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="en")

    files = table(at, "Reasons")
    assert list(files["File"]) == ["incoming/export.xlsx", "incoming/sales_c.csv",
                                   "incoming/sales_a.csv"]
    assert list(files["Status"]) == ["rejected", "loaded", "loaded"]
    assert list(files["Rejected rows"]) == ["0", "2", "3"]
    assert list(files["Reasons"]) == [
        "not a CSV file",
        "unit_price: negative (2)",
        f"{QTY} (2); sale_date: missing (1)",
    ]


def test_dbt_build_history_newest_first_with_durations(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="pt-BR")

    builds = table(at, "Duração (s)")
    assert list(builds["Duração (s)"]) == ["2,5", "4,2"]
    assert list(builds["Arquivos novos"]) == ["1", "3"]


def test_both_tables_have_a_csv_download(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="pt-BR")

    buttons = at.get("download_button")
    assert {b.proto.label for b in buttons} == {"Baixar CSV"}
    assert len(buttons) == 2  # rejects per file, dbt builds


def test_files_by_day_cover_the_last_30_days(pipe_world):
    reads = pipeline_data.PipelineReads.connect(pipe_world.settings.for_component("dashboard"))

    by_day = reads.files_by_day()

    rows = {(r.load_date, r.status): (r.files, r.rows_rejected) for r in by_day.itertuples()}
    # Expected from the fixture's own rows: UTC day of each file within the last 30 days.
    today = dt.datetime.now(dt.UTC).date()
    want: dict[tuple[dt.date, str], tuple[int, int]] = {}
    for *_, status, _reason, _total, _valid, rejected, loaded_at in pipe_world.files:
        day = loaded_at.astimezone(dt.UTC).date()
        if (today - day).days < 30:
            files, rows_rejected = want.get((day, status), (0, 0))
            want[(day, status)] = (files + 1, rows_rejected + rejected)
    assert len(want) >= 2 and rows == want


def test_pause_stops_auto_refresh_and_offers_a_manual_refresh(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="en")
    assert any(c.value.startswith("Last refreshed ") and "paused" not in c.value
               for c in at.caption)
    assert at.button(key="pipeline_refresh_now").disabled

    at.toggle(key="pipeline_auto_refresh").set_value(False).run()

    assert any(c.value.startswith("Last refreshed ") and c.value.endswith(
        " UTC · auto-refresh paused") for c in at.caption)
    assert not at.button(key="pipeline_refresh_now").disabled


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_kafka_shows_lag_unavailable_and_the_rest(monkeypatch, pipe_world):
    at = run_page(monkeypatch, pipe_world, lang="en",
                  env={"BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}"})

    assert metric(at, "Loader lag") == ("—", "Kafka unreachable")
    assert metric(at, "Files loaded") == ("4", None)


def test_missing_marts_show_waiting_state(monkeypatch, base_settings):
    settings = support.database(base_settings, "t_pipe_nomarts")
    support.drop_marts(settings)

    at = run_page(monkeypatch, PipeWorld(settings, "sales.files", "sales-loader", ()), lang="pt-BR")

    assert any("Aguardando o primeiro arquivo" in i.value for i in at.info)
    assert not at.metric
