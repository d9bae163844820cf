"""The incident / rate-limit state machine behind the loader's alerts, and the Slack escaping of
the texts it sends (pure, no network)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from loader.alerts import RATE_WINDOW_S, Alerts, IncidentBook, slack_escape
from loader.dbt import DbtOutcome
from loader.load import FileOutcome
from salespipe.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_incident_alerts_once_until_it_clears():
    book = IncidentBook(max_per_hour=10, clock=Clock())
    assert book.open("file_rejected:a", "rejected a") == "rejected a"
    assert book.open("file_rejected:a", "rejected a again") is None
    assert book.clear("file_rejected:a", "a recovered") == "a recovered"
    assert book.clear("file_rejected:a", "a recovered twice") is None
    assert book.open("file_rejected:a", "rejected a once more") == "rejected a once more"


def test_clearing_an_incident_that_never_opened_sends_nothing():
    book = IncidentBook(max_per_hour=10, clock=Clock())
    assert book.clear("dbt_build", "dbt ok") is None


def test_rate_limit_holds_back_alerts_and_counts_them_in_the_next_message():
    clock = Clock()
    book = IncidentBook(max_per_hour=2, clock=clock)
    assert book.open("a", "A") == "A"
    assert book.open("b", "B") == "B"
    assert book.open("c", "C") is None
    assert book.open("d", "D") is None
    clock.now += RATE_WINDOW_S
    message = book.open("e", "E")
    assert message is not None and message.startswith("E")
    assert "2 more alert(s) held back" in message
    assert "held back" not in (book.open("f", "F") or "")


def test_recovery_of_an_incident_held_back_by_the_rate_limit_is_not_sent():
    clock = Clock()
    book = IncidentBook(max_per_hour=1, clock=clock)
    assert book.open("a", "A") == "A"
    assert book.open("b", "B") is None
    clock.now += RATE_WINDOW_S
    assert book.clear("b", "B recovered") is None  # the operator never heard of B
    assert book.clear("a", "A recovered") is not None


# --- user text is escaped for Slack, the project's own text is not --------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<https://x|y>", "&lt;https://x|y&gt;"),
    ("R&D", "R&amp;D"),
    ("&lt;", "&amp;lt;"),  # an entity in the file is shown as typed, not decoded by Slack
    ("incoming/vendas_são_paulo.csv", "incoming/vendas_são_paulo.csv"),
])
def test_slack_escape_makes_mrkdwn_controls_inert(text, expected):
    assert slack_escape(text) == expected


class Sent:
    """Stands in for the webhook sender: collects what would be posted."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def send(self, text: str) -> None:
        self.texts.append(text)


def alerts_sending_to(sent: Sent, **settings: object) -> Alerts:
    alerts = Alerts(Settings(CLIENT_ID="acme", **settings), check_freshness=False)
    alerts.sender = sent  # type: ignore[assignment]
    return alerts


def test_rejected_file_alert_escapes_key_and_reason_but_not_its_own_wording():
    sent = Sent()
    alerts = alerts_sending_to(sent, ALERT_REJECTED_ROWS_PCT=10.0)
    alerts.file_outcome(FileOutcome("incoming/<!channel>.csv", '"e1"', "rejected",
                                    reason="expected exactly one CSV: <https://evil|a.csv>, b&c.csv"))
    alerts.file_outcome(FileOutcome("incoming/<!here>.zip", '"e2"', "loaded",
                                    rows_valid=1, rows_rejected=1))
    assert sent.texts == [
        '[salespipe acme] file rejected: incoming/&lt;!channel&gt;.csv (etag "e1"): '
        "expected exactly one CSV: &lt;https://evil|a.csv&gt;, b&amp;c.csv",
        "[salespipe acme] incoming/&lt;!here&gt;.zip: 1 of 2 rows rejected (50.0% > 10%); "
        "reasons in raw.sales_rejected",
    ]


def test_dbt_failure_summary_is_escaped_after_its_secrets_are_redacted():
    sent = Sent()
    alerts = alerts_sending_to(sent, ALERT_DBT_FAILED_BUILDS=1,
                               POSTGRES_PASSWORD=SecretStr("p<w&d"))
    alerts.dbt_outcome(DbtOutcome(False, 1.0, "login failed with p<w&d for <!everyone>"))
    assert sent.texts == ["[salespipe acme] dbt build failed 1 time(s) in a row: "
                          "login failed with *** for &lt;!everyone&gt;"]
