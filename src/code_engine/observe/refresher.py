"""A value recomputed in a worker thread, so that readers never wait for the computation.

`Refresher.start()` computes at once and then again `interval` seconds after each
computation ended (a fixed delay: a slow computation never runs back to back with the
next). Readers take `snapshot`, the last value with when it was computed and how long
that took; a failed computation keeps the previous snapshot, whose timestamp then shows
how stale it is. `stop()` ends the thread and waits for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from code_engine.clock import Clock
from code_engine.observe.logging import get_logger

T = TypeVar("T")
log = get_logger("code_engine.observe")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """A computed value, the time it was computed for and the seconds it took."""

    value: T
    at: datetime
    seconds: float


class Refresher(Generic[T]):
    """Calls `compute(now)` in a daemon thread every `interval` seconds after the last one."""

    def __init__(
        self,
        name: str,
        compute: Callable[[datetime], T],
        clock: Clock,
        *,
        interval: float,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"refresh interval must be positive, got {interval}")
        self.name = name
        self.compute = compute
        self.clock = clock
        self.interval = interval
        self.monotonic = monotonic
        self._snapshot: Snapshot[T] | None = None
        # every loop started and not seen ending, each with its own stop signal: a loop
        # asked to stop while computing must not be revived by a later start
        self._loops: list[tuple[threading.Thread, threading.Event]] = []

    @property
    def snapshot(self) -> Snapshot[T] | None:
        """The last successful computation, None before the first one."""
        return self._snapshot

    def refresh(self) -> bool:
        """Compute once now; on failure log it, keep the last snapshot and return False."""
        now = self.clock()
        started = self.monotonic()
        try:
            value = self.compute(now)
        except Exception as exc:  # noqa: BLE001 - the worker must outlive a failed computation
            log.warning("refresh failed", refresher=self.name, error=repr(exc))
            return False
        self._snapshot = Snapshot(value, now, self.monotonic() - started)
        return True

    def run(self, wait: Callable[[float], bool]) -> None:
        """Refresh at once, then after each `interval` until `wait` says stop (the loop)."""
        delay = 0.0
        while not wait(delay):
            self.refresh()
            delay = self.interval

    def start(self) -> None:
        """Run the loop in a daemon thread; starting a running refresher is a no-op."""
        self._loops = [(t, stop) for t, stop in self._loops if t.is_alive()]
        if any(not stop.is_set() for _, stop in self._loops):
            return
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop.wait,), name=self.name, daemon=True)
        self._loops.append((thread, stop))
        thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the loop to end and wait for a computation in progress; True once stopped."""
        for _, stop in self._loops:
            stop.set()
        deadline = time.monotonic() + timeout
        for thread, _ in self._loops:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._loops = [(t, stop) for t, stop in self._loops if t.is_alive()]
        if self._loops:
            log.warning("refresher still computing at stop", refresher=self.name)
            return False
        return True
