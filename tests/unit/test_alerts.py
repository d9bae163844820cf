"""The incident / rate-limit state machine behind the loader's alerts (pure, no network)."""

from __future__ import annotations

from loader.alerts import RATE_WINDOW_S, IncidentBook


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
