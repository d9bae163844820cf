"""Operator alerts: the real loader on the real services, a webhook receiver on loopback."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from tests.formats_support import to_zip
from tests.integration.loader_support import put_and_announce, query, sale, to_csv

pytestmark = pytest.mark.integration

TOKEN = "hook-token-7f3a9c"  # noqa: S105 - a test value, checked to stay out of bodies


@dataclass
class Receiver:
    url: str
    posts: list[tuple[dict[str, str], dict]] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [body["text"] for _headers, body in self.posts]

    def wait_for(self, n: int, timeout: float = 15.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.posts) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.texts()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    posts: list[tuple[dict[str, str], dict]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append((dict(self.headers.items()), json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", posts)
    server.shutdown()
    server.server_close()


def _alerting(world, url: str, **extra):
    return world.settings.model_copy(update={
        "ALERT_WEBHOOK_URL": SecretStr(url), "ALERT_WEBHOOK_SECRET": SecretStr(TOKEN),
        "ALERT_WEBHOOK_TIMEOUT_SECONDS": 1.0, **extra})


def _run_loader(world, settings) -> None:
    from loader.consumer import Loader

    Loader(settings, topics=world.topics, group_id=f"g-{world.files_topic}",
           run_dbt=False).run(exit_when_idle=2.0)


GOOD = to_csv([sale("S-1"), sale("S-2")])
MISSING_COLUMN = to_csv([sale("S-1")], columns=["sale_id", "sale_date"])


def _wait_rows(world, sql: str, expected: list, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while query(world, sql) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert query(world, sql) == expected


def test_rejected_file_alerts_once_then_recovers_when_fixed(world, receiver):
    from loader.consumer import Loader

    key = "incoming/sales_2026-03-01.csv"
    loader = Loader(_alerting(world, receiver.url), topics=world.topics,
                    group_id=f"g-{world.files_topic}", run_dbt=False)
    thread = threading.Thread(target=loader.run, daemon=True)
    thread.start()
    try:
        put_and_announce(world, key, MISSING_COLUMN)
        _wait_rows(world, "select status from raw.files", [("rejected",)])
        receiver.wait_for(1)
        put_and_announce(world, key, MISSING_COLUMN)  # the same version again: same incident
        put_and_announce(world, "incoming/other.csv", GOOD)
        _wait_rows(world, "select key from raw.files where status = 'loaded'",
                   [("incoming/other.csv",)])
        put_and_announce(world, key, GOOD)  # the fix: a new version that loads
        _wait_rows(world, "select count(*) from raw.files where status = 'loaded'", [(2,)])
    finally:
        loader.stop.set()
        thread.join(30)

    texts = receiver.wait_for(2)
    assert len(texts) == 2, texts
    assert f"file rejected: {key}" in texts[0] and "missing" in texts[0]
    assert "resolved" in texts[1] and key in texts[1]
    for headers, body in receiver.posts:
        assert headers["X-Salespipe-Token"] == TOKEN
        assert TOKEN not in json.dumps(body) and receiver.url not in json.dumps(body)
    assert query(world, "select status, count(*) from raw.files group by 1 order by 1") == [
        ("loaded", 2), ("rejected", 1)]


def test_file_with_many_rejected_rows_alerts(world, receiver):
    rows = [sale("S-1"), sale("S-2"), sale("S-3", qty=0), sale("S-4", qty=0)]  # 2 of 4 bad
    put_and_announce(world, "incoming/half_bad.csv", to_csv(rows))
    put_and_announce(world, "incoming/fine.csv", to_csv([sale("S-9")]))
    _run_loader(world, _alerting(world, receiver.url, ALERT_REJECTED_ROWS_PCT=10.0))

    texts = receiver.wait_for(1)
    time.sleep(0.5)  # nothing else may follow
    assert len(receiver.texts()) == 1
    assert "incoming/half_bad.csv: 2 of 4 rows rejected (50.0% > 10%)" in texts[0]



def test_key_and_zip_member_names_reach_slack_escaped(world, receiver):
    # A Slack-style receiver would ping the channel for `<!channel>` and show a disguised link
    # for `<url|text>`; escaped, both are shown as typed.
    put_and_announce(world, "incoming/<!channel>.csv", MISSING_COLUMN)
    put_and_announce(world, "incoming/R&D.zip",
                     to_zip({"<https://evil.example|invoice>.csv": GOOD, "b.csv": GOOD}))
    _run_loader(world, _alerting(world, receiver.url))

    texts = sorted(receiver.wait_for(2))
    assert len(texts) == 2, texts
    assert "file rejected: incoming/&lt;!channel&gt;.csv (etag " in texts[0]
    assert "file rejected: incoming/R&amp;D.zip (etag " in texts[1]
    assert "&lt;https://evil.example|invoice&gt;.csv" in texts[1]
    for text in texts:
        assert "<" not in text and ">" not in text, text

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_webhook() -> Iterator[str]:
    """Accepts connections and never answers: the slowest webhook there is."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def test_loader_keeps_loading_when_the_webhook_refuses_connections(world):
    # A webhook that accepts and never answers: timed in the test after this one.
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    for i in range(3):
        put_and_announce(world, f"incoming/bad_{i}.csv", MISSING_COLUMN)
    put_and_announce(world, "incoming/good.csv", GOOD)
    _run_loader(world, _alerting(world, url))
    assert query(world, "select key, status from raw.files order by key") == [
        ("incoming/bad_0.csv", "rejected"), ("incoming/bad_1.csv", "rejected"),
        ("incoming/bad_2.csv", "rejected"), ("incoming/good.csv", "loaded")]
    assert query(world, "select count(*) from raw.sales") == [(2,)]


SEND_TIMEOUT_S = 2.0


def _gaps_between_files(world, settings, prefix: str) -> list[float]:
    """Load four rejected files (each opens an incident and sends an alert) and a good one;
    returns, in the order they were loaded, the seconds from each file's commit to the next
    file's start: the time an alert sent in line with loading would add."""
    for i in range(4):
        put_and_announce(world, f"incoming/{prefix}/bad_{i}.csv", MISSING_COLUMN)
    put_and_announce(world, f"incoming/{prefix}/good.csv", GOOD)
    _run_loader(world, settings)
    rows = query(world, "select status, received_at, loaded_at from raw.files where key like %s "
                        "order by received_at", (f"incoming/{prefix}/%",))
    assert sorted(status for status, _, _ in rows) == ["loaded"] + ["rejected"] * 4, rows
    return [(nxt[1] - prev[2]).total_seconds() for prev, nxt in zip(rows, rows[1:], strict=False)]


def test_a_webhook_that_never_answers_delays_no_file(world, receiver, silent_webhook):
    # At least three files follow a rejected one. Were alerts sent in line with loading, each
    # would wait the whole send timeout for a webhook that accepts and never answers.
    healthy = _gaps_between_files(
        world, _alerting(world, receiver.url, ALERT_WEBHOOK_TIMEOUT_SECONDS=SEND_TIMEOUT_S),
        "healthy")
    assert len(receiver.wait_for(4)) == 4  # every rejection did send an alert
    silent = _gaps_between_files(
        world, _alerting(world, silent_webhook, ALERT_WEBHOOK_TIMEOUT_SECONDS=SEND_TIMEOUT_S),
        "silent")
    assert max(silent) < max(healthy) + SEND_TIMEOUT_S / 4, (healthy, silent)


def test_failed_dbt_builds_alert_once_after_the_retries_and_recover(world, receiver):
    from loader.alerts import Alerts
    from loader.dbt import DbtOutcome

    alerts = Alerts(_alerting(world, receiver.url, ALERT_DBT_FAILED_BUILDS=2))
    alerts.dbt_outcome(DbtOutcome(False, 1.0, "1 of 40 tests failed"))  # a retry may fix it
    alerts.dbt_outcome(DbtOutcome(False, 1.0, "1 of 40 tests failed"))
    alerts.dbt_outcome(DbtOutcome(False, 1.0, "1 of 40 tests failed"))
    alerts.dbt_outcome(DbtOutcome(True, 1.0, "ok"))
    alerts.close()
    texts = receiver.wait_for(2)
    assert len(texts) == 2, texts
    assert "dbt build failed 2 time(s) in a row: 1 of 40 tests failed" in texts[0]
    assert "resolved: dbt build succeeded" in texts[1]


def test_stale_marts_alert_once_and_recover(world, receiver):
    from loader.alerts import Alerts

    alerts = Alerts(_alerting(world, receiver.url, ALERT_FRESHNESS_MINUTES=30),
                    check_freshness=False)
    assert alerts.marts_age_minutes() is None  # a fresh database: no build yet, no alert
    alerts.freshness(45.0)
    alerts.freshness(50.0)
    alerts.freshness(2.0)
    alerts.close()
    texts = receiver.wait_for(2)
    assert len(texts) == 2, texts
    assert "marts are stale" in texts[0] and "limit 30 min" in texts[0]
    assert "resolved: marts fresh again" in texts[1]


def test_alert_text_never_carries_a_configured_secret(world, receiver):
    from loader.alerts import Alerts
    from loader.dbt import DbtOutcome

    password = "pg-secret-5d1e"  # noqa: S105 - a test value
    settings = _alerting(world, receiver.url, ALERT_DBT_FAILED_BUILDS=1,
                         POSTGRES_PASSWORD=SecretStr(password))
    alerts = Alerts(settings)
    alerts.dbt_outcome(DbtOutcome(False, 1.0, f"connection failed for password {password}"))
    alerts.close()
    texts = receiver.wait_for(1)
    assert len(texts) == 1 and "***" in texts[0]
    assert password not in texts[0] and TOKEN not in texts[0]
