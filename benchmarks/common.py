"""What the benchmark modules share."""

from __future__ import annotations

import time
from collections.abc import Callable

from salespipe import db
from salespipe.settings import Settings


def checkpoint(settings: Settings) -> None:
    """Flush dirty pages so a sample does not pay for the previous sample's writes."""
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("checkpoint")


def wait_until(check: Callable[[], bool], timeout: float, what: str = "condition") -> None:
    """Poll `check` every 50 ms (a timing resolution the freshness figures rely on)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark: {what} not reached in {timeout:.0f} s")
        time.sleep(0.05)
