"""salespipe.retry.Backoff: capped, jittered, resettable."""

from __future__ import annotations

import random
import threading

from salespipe.retry import Backoff


def test_steps_double_up_to_the_cap_with_at_most_half_of_each_as_jitter():
    b = Backoff(first=1.0, cap=8.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(6)]
    for delay, step in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert step / 2 <= delay <= step


def test_two_clients_with_different_seeds_do_not_retry_in_lockstep():
    a, b = Backoff(rng=random.Random(1)), Backoff(rng=random.Random(2))
    assert [a.next_delay() for _ in range(5)] != [b.next_delay() for _ in range(5)]


def test_reset_starts_again_from_the_first_step():
    b = Backoff(first=2.0, cap=60.0)
    for _ in range(5):
        b.next_delay()
    b.reset()
    assert 1.0 <= b.next_delay() <= 2.0


def test_wait_returns_at_once_when_stopped():
    stop = threading.Event()
    stop.set()
    assert Backoff(first=30.0).wait(stop) is True
