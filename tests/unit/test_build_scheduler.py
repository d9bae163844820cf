"""The loader's build scheduling (loader/builds.py) with a stand-in for `run_build`: the
threading logic only; real builds are in tests/integration/test_loader_builds.py."""

from __future__ import annotations

import threading

import pytest

from loader import builds
from loader.dbt import DbtOutcome


class FakeBuilds:
    """`run_build` stand-in: each build waits until the test lets it finish."""

    def __init__(self, results: list[bool]) -> None:
        self.results = results
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.count = 0

    def __call__(self, _settings: object, _worker: object) -> DbtOutcome:
        self.started.release()
        assert self.release.acquire(timeout=30)
        self.count += 1
        return DbtOutcome(self.results.pop(0), 0.0, "")


@pytest.fixture
def scheduler(monkeypatch):
    def make(results: list[bool]):
        fake = FakeBuilds(results)
        monkeypatch.setattr(builds, "run_build", fake)
        done: list[tuple[list[object], bool]] = []
        finished = threading.Semaphore(0)

        def on_done(tokens: list[object], outcome: DbtOutcome) -> None:
            done.append((tokens, outcome.success))
            finished.release()

        s = builds.BuildScheduler(object(), object(), on_done=on_done, on_error=lambda _e: None,
                                  retry_min_s=60.0)
        return s, fake, done, finished

    return make


def test_requests_made_during_a_build_share_the_next_build(scheduler):
    s, fake, done, finished = scheduler([True, True])
    s.request()  # the start-up build
    assert fake.started.acquire(timeout=10)
    for batch in ("b1", "b2", "b3"):
        s.request(batch)
    fake.release.release()
    assert finished.acquire(timeout=10)
    assert fake.started.acquire(timeout=10)
    fake.release.release()
    assert finished.acquire(timeout=10)
    s.close()
    assert done == [([], True), (["b1", "b2", "b3"], True)]
    assert fake.count == 2


def test_a_failed_build_is_retried_and_new_data_does_not_wait_for_the_backoff(scheduler):
    s, fake, done, finished = scheduler([False, True])
    s.request("b1")
    assert fake.started.acquire(timeout=10)
    fake.release.release()
    assert finished.acquire(timeout=10)
    assert not s.busy  # waiting out the backoff: an idle loader may exit
    s.request("b2")
    assert fake.started.acquire(timeout=10)
    assert s.busy
    fake.release.release()
    assert finished.acquire(timeout=10)
    s.close()
    assert done == [(["b1"], False), (["b2"], True)]


def test_the_group_keeps_a_loader_longer_than_the_longest_dbt_build():
    from loader.consumer import MAX_POLL_INTERVAL_MS
    from loader.dbt import DBT_TIMEOUT_S

    # librdkafka's upper bound for max.poll.interval.ms is 86,400,000 (a day).
    assert DBT_TIMEOUT_S * 1000 < MAX_POLL_INTERVAL_MS <= 86_400_000
