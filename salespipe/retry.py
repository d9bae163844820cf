"""Capped exponential backoff with jitter: the one retry rule of every long-running component.

Jitter matters when several loaders or watchers lose the same service at once: without it
they all retry in lockstep and hit the recovering server together. "Equal jitter" keeps a
floor (half the step) so a retry never comes immediately, and spreads the other half.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays 1, 2, 4, ... seconds (each with up to half of it as random jitter), capped at
    `cap`; `reset()` after a success. `wait(stop)` sleeps one step unless `stop` is set first."""

    first: float = 1.0
    cap: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    _step: float = field(default=0.0, init=False)

    def next_delay(self) -> float:
        self._step = self.first if self._step == 0 else min(self._step * 2, self.cap)
        return self._step / 2 + self.rng.uniform(0, self._step / 2)

    def reset(self) -> None:
        self._step = 0.0

    def wait(self, stop: threading.Event, delay: float | None = None) -> bool:
        """Sleep `delay` (default: the next step); True when `stop` was set meanwhile."""
        return stop.wait(self.next_delay() if delay is None else delay)
