"""Operator alerts: one webhook message when an incident opens, one when it clears.

Incidents: a rejected file, a file whose rejected rows exceed `ALERT_REJECTED_ROWS_PCT`,
`dbt build` failing `ALERT_DBT_FAILED_BUILDS` times in a row, and marts older than
`ALERT_FRESHNESS_MINUTES` (checked by this module's own thread). The body is Slack-compatible
(`{"text": ...}`); `ALERT_WEBHOOK_SECRET` travels in a header, never in the body, and every
text passes the project's redaction first. Text that comes from outside (object keys, rejection
reasons quoting a file's content or zip member names, dbt error summaries) enters a message
only through `Alerts._text`, which escapes it for Slack (`slack_escape`).

Loading never waits for a webhook: messages go through a bounded queue to a sender thread
with a short timeout, and a failure is logged and dropped. At most `ALERT_MAX_PER_HOUR`
messages are sent; what the limit held back is counted in the next message that goes out.
Incident state lives in the loader process (a restart forgets it: an incident still open
alerts once more).
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from salespipe.errors import redact
from salespipe.logs import get_logger
from salespipe.settings import Settings

log = get_logger("loader.alerts")

RATE_WINDOW_S = 3600.0
MAX_OPEN_INCIDENTS = 1000  # distinct rejected files kept in memory at most
QUEUE_SIZE = 100


def slack_escape(text: str) -> str:
    """User text made inert in Slack mrkdwn: `&`, `<` and `>` become `&amp;`, `&lt;`, `&gt;`.

    Slack reads `<...>` as a control sequence: unescaped, a key named `<!channel>` would ping
    everyone in the channel and `<https://evil.example|invoice.csv>` would show a disguised
    link. Those three characters are all Slack asks to escape; `&` goes first so the entities
    made here are not escaped again.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class _Incident:
    text: str
    notified: bool


class IncidentBook:
    """The pure state machine: which incidents are open, and what (if anything) to send.

    `open()` returns a message only the first time an incident opens; `clear()` only when a
    notified incident closes. Both obey the rate limit, which counts what it held back.
    """

    def __init__(self, max_per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_per_hour = max_per_hour
        self.clock = clock
        self._open: OrderedDict[str, _Incident] = OrderedDict()
        self._sent: deque[float] = deque()
        self.suppressed = 0
        self._lock = threading.Lock()

    def is_open(self, key: str) -> bool:
        return key in self._open

    def open(self, key: str, text: str) -> str | None:
        with self._lock:
            if key in self._open:
                return None
            if len(self._open) >= MAX_OPEN_INCIDENTS:
                self._open.popitem(last=False)
            message = self._admit(text)
            self._open[key] = _Incident(text, notified=message is not None)
            return message

    def clear(self, key: str, text: str) -> str | None:
        with self._lock:
            incident = self._open.pop(key, None)
            if incident is None or not incident.notified:
                return None
            return self._admit(text)

    def _admit(self, text: str) -> str | None:
        now = self.clock()
        while self._sent and now - self._sent[0] >= RATE_WINDOW_S:
            self._sent.popleft()
        if len(self._sent) >= self.max_per_hour:
            self.suppressed += 1
            return None
        self._sent.append(now)
        if self.suppressed:
            text += (f"\n({self.suppressed} more alert(s) held back by the rate limit; "
                     "see the loader log)")
            self.suppressed = 0
        return text


class WebhookSender:
    """Posts messages from a daemon thread; never blocks or fails its caller."""

    def __init__(self, settings: Settings) -> None:
        assert settings.ALERT_WEBHOOK_URL is not None
        self._url = settings.ALERT_WEBHOOK_URL.get_secret_value()
        self._timeout = settings.ALERT_WEBHOOK_TIMEOUT_SECONDS
        self._headers = {"Content-Type": "application/json", "User-Agent": "salespipe-alerts"}
        if settings.ALERT_WEBHOOK_SECRET is not None:
            self._headers[settings.ALERT_WEBHOOK_SECRET_HEADER] = (
                settings.ALERT_WEBHOOK_SECRET.get_secret_value())
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="alerts-sender", daemon=True)
        self._thread.start()

    def send(self, text: str) -> None:
        try:
            self._queue.put_nowait(text)
        except queue.Full:
            log.warning("alert_dropped", reason="queue_full")

    def _run(self) -> None:
        while (text := self._queue.get()) is not None:
            body = json.dumps({"text": text}).encode()
            request = urllib.request.Request(self._url, data=body, headers=self._headers,
                                             method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - operator-configured URL
                    response.read()
                log.info("alert_sent", status=response.status)
            except urllib.error.HTTPError as exc:
                log.warning("alert_send_failed", http_status=exc.code)
            except (urllib.error.URLError, OSError) as exc:
                # Never the URL itself: a Slack webhook URL is a credential.
                reason = getattr(exc, "reason", exc)
                log.warning("alert_send_failed", error=type(reason).__name__)

    def close(self, timeout: float = 2.0) -> None:
        """Give queued messages a moment to go out; the thread is a daemon either way."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)


class Alerts:
    """What the loader calls: one method per kind of outcome; decides, redacts, sends."""

    def __init__(self, settings: Settings, *, check_freshness: bool = True) -> None:
        self.settings = settings
        self.book = IncidentBook(settings.ALERT_MAX_PER_HOUR)
        self.sender = WebhookSender(settings) if settings.ALERT_WEBHOOK_URL else None
        self.dbt_failures = 0
        self._stop = threading.Event()
        self._checker: threading.Thread | None = None
        if check_freshness and settings.ALERT_FRESHNESS_MINUTES is not None:
            self._checker = threading.Thread(target=self._freshness_loop, daemon=True,
                                             name="alerts-freshness")
            self._checker.start()

    # --- incidents -------------------------------------------------------------------------
    def file_outcome(self, outcome: Any) -> None:
        key = outcome.key
        if outcome.status == "rejected":
            self._open(f"file_rejected:{key}", self._text(
                "file rejected: {key} (etag {etag}): {reason}",
                key=key, etag=outcome.etag, reason=outcome.reason))
            return
        if outcome.status != "loaded":
            return
        self._clear(f"file_rejected:{key}",
                    self._text("resolved: {key} loaded after being rejected", key=key))
        total = outcome.rows_valid + outcome.rows_rejected
        pct = 100.0 * outcome.rows_rejected / total if total else 0.0
        limit = self.settings.ALERT_REJECTED_ROWS_PCT
        if outcome.rows_rejected and pct > limit:
            self._open(f"rejected_rows:{key}", self._text(
                "{key}: {rejected} of {total} rows rejected ({pct:.1f}% > {limit:g}%); "
                "reasons in raw.sales_rejected",
                key=key, rejected=outcome.rows_rejected, total=total, pct=pct, limit=limit))
        else:
            self._clear(f"rejected_rows:{key}", self._text(
                "resolved: {key} loaded with {pct:.1f}% rejected rows", key=key, pct=pct))

    def dbt_outcome(self, outcome: Any) -> None:
        if outcome.success:
            self.dbt_failures = 0
            self._clear("dbt_build", "resolved: dbt build succeeded")
            return
        self.dbt_failures += 1
        if self.dbt_failures >= self.settings.ALERT_DBT_FAILED_BUILDS:
            self._open("dbt_build", self._text(
                "dbt build failed {n} time(s) in a row: {summary}",
                n=self.dbt_failures, summary=outcome.summary))

    def freshness(self, age_minutes: float | None) -> None:
        limit = self.settings.ALERT_FRESHNESS_MINUTES
        if limit is None or age_minutes is None:
            return
        if age_minutes > limit:
            self._open("freshness", f"marts are stale: last completed dbt build "
                                    f"{age_minutes:.0f} min ago (limit {limit:g} min)")
        else:
            self._clear("freshness", f"resolved: marts fresh again ({age_minutes:.0f} min old)")

    def _text(self, template: str, **user: object) -> str:
        """The one place outside text enters an alert: `template` (ours, sent as written)
        filled with `user` values, each string redacted and then escaped by `slack_escape`.

        Redacting before escaping matters: a secret holding `&` or `<` would no longer match
        once escaped, and would reach Slack in its escaped form. Numbers pass through as they
        are, so the template's format specs (`{pct:.1f}`) still apply.
        """
        return template.format(**{
            name: slack_escape(redact(value, self.settings)) if isinstance(value, str) else value
            for name, value in user.items()})

    def _open(self, key: str, text: str) -> None:
        first = not self.book.is_open(key)
        message = self.book.open(key, text)
        if first:
            log.warning("incident_opened", incident=key, notified=message is not None)
        self._deliver(message)

    def _clear(self, key: str, text: str) -> None:
        was_open = self.book.is_open(key)
        message = self.book.clear(key, text)
        if was_open:
            log.info("incident_cleared", incident=key, notified=message is not None)
        self._deliver(message)

    def _deliver(self, message: str | None) -> None:
        if message is None or self.sender is None:
            return
        self.sender.send(redact(f"[salespipe {self.settings.CLIENT_ID}] {message}",
                                self.settings))

    # --- freshness, checked in the background ----------------------------------------------
    def _freshness_loop(self) -> None:
        assert self.settings.ALERT_FRESHNESS_MINUTES is not None
        every = min(60.0, self.settings.ALERT_FRESHNESS_MINUTES * 60 / 4)
        while not self._stop.wait(every):
            self.freshness(self.marts_age_minutes())

    def marts_age_minutes(self) -> float | None:
        """Minutes since the last completed dbt build (None: no build yet, or no database)."""
        import psycopg

        from salespipe import db

        try:
            with db.connect(self.settings.for_component("transform"), autocommit=True) as conn:
                row = conn.execute(
                    "select extract(epoch from clock_timestamp() - marts_built_at) / 60 "
                    "from marts.pipeline_freshness"
                ).fetchone()
        except psycopg.errors.UndefinedTable:
            return None  # dbt has not built the marts yet
        except psycopg.Error as exc:
            log.warning("freshness_check_failed", error=type(exc).__name__)
            return None
        return None if row is None or row[0] is None else float(row[0])

    def close(self) -> None:
        self._stop.set()
        if self.sender is not None:
            self.sender.close()
