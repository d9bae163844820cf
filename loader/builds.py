"""`dbt build` scheduling beside the consume loop.

Why a thread: a build takes seconds (the start-up catch-up 10-15 s), and while the consume
loop waited for it, files announced meanwhile waited too. Here the loop only *requests* a
build; one thread runs them one after another, and every request made while a build runs is
coalesced into the next one, so a burst of files costs one extra build, not one per batch.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from loader.dbt import DbtOutcome, DbtWorker, run_build
from salespipe.logs import get_logger
from salespipe.retry import Backoff
from salespipe.settings import Settings

log = get_logger("loader.builds")

RETRY_MAX_S = 60.0


class BuildScheduler:
    """Runs requested builds in a background thread. `on_done(tokens, outcome)` is called in
    that thread after each build with the tokens of the requests it covered (the loader
    passes its batches, to publish their summaries with the build's outcome)."""

    def __init__(self, settings: Settings, worker: DbtWorker,
                 on_done: Callable[[list[Any], DbtOutcome], None],
                 on_error: Callable[[BaseException], None], retry_min_s: float = 1.0) -> None:
        self.settings = settings
        self.worker = worker
        self._on_done = on_done
        self._on_error = on_error
        self._cond = threading.Condition()
        self._tokens: list[Any] = []
        self._requested = False
        self._running = False
        self._closing = False
        self._retry_at = 0.0
        self._backoff = Backoff(first=retry_min_s, cap=RETRY_MAX_S)
        self.builds = 0
        self.error: BaseException | None = None
        self.last_success = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="dbt-builds", daemon=True)
        self._thread.start()

    def request(self, token: Any = None) -> None:
        """Ask for a build covering `token`; a build already running does not cover it. New
        data is worth a build now, even while a failed one waits out its backoff."""
        with self._cond:
            self._requested = True
            if token is not None:
                self._tokens.append(token)
                self._retry_at = 0.0
            self._cond.notify()

    @property
    def busy(self) -> bool:
        """A build is running or due: the loader is not idle. A failed build waiting out
        its backoff does not count, so `--exit-when-idle` still ends."""
        with self._cond:
            return self._running or (self._requested and time.monotonic() >= self._retry_at)

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._closing and (not self._requested
                                                 or time.monotonic() < self._retry_at):
                        wait = None if not self._requested else self._retry_at - time.monotonic()
                        self._cond.wait(wait)
                    if self._closing:
                        return
                    tokens, self._tokens = self._tokens, []
                    self._requested, self._running = False, True
                outcome = self._build()
                with self._cond:
                    self._running = False
                    self.builds += 1
                    if outcome.success:
                        self.last_success = time.monotonic()
                        self._backoff.reset()
                    elif not self._closing:
                        # Retried with capped backoff; requests made meanwhile ride along.
                        self._requested = True
                        self._retry_at = time.monotonic() + self._backoff.next_delay()
                self._on_done(tokens, outcome)
        except BaseException as exc:  # noqa: BLE001 - handed to the consume loop, which raises it
            self.error = exc
            self._on_error(exc)

    def _build(self) -> DbtOutcome:
        try:
            return run_build(self.settings, self.worker)
        except psycopg.Error as exc:
            return DbtOutcome(False, 0.0, f"database error: {str(exc).splitlines()[0]}")

    def close(self, timeout: float = 5.0) -> None:
        """Stop scheduling. A running build is abandoned (its worker is terminated): dbt's
        transaction rolls back, and the next loader's start-up build catches up."""
        with self._cond:
            self._closing = True
            running = self._running
            self._cond.notify()
        if running:
            log.info("dbt_build_abandoned", reason="shutdown")
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            # Again until the thread ends: a worker killed before it accepted the build is
            # replaced once by DbtWorker.invoke, and that replacement must go too.
            self._terminate_worker()
            self._thread.join(0.1)
        # A build still waiting for another loader's build lock cannot be interrupted from
        # here; the thread is a daemon and its lock session ends with the process.

    def _terminate_worker(self) -> None:
        proc = getattr(self.worker, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
