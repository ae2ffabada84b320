"""Slow world actions (build and start a release, drain and stop one) on their own threads.

The controller's loop never blocks on them: it launches a job, keeps ticking, and sees
the job's effect in the processes it observes. A job that failed leaves its error for the
observer until it is cleared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from code_engine.deploy.local.errors import is_retryable
from code_engine.observe.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class JobFailure:
    error: str
    at: float
    retryable: bool = False  # a passing shortage: the job may be tried again
    kind: str = "crashed"  # what an `InstanceStartError` said happened
    summary: str = ""  # the error without the log lines


class Jobs:
    """At most one running job per key; failures kept per key until cleared."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[Hashable, threading.Thread] = {}
        self._failures: dict[Hashable, JobFailure] = {}

    def start(self, key: Hashable, work: Callable[[], object], name: str) -> bool:
        """Run `work` on a thread unless a job with `key` runs; True if it was started."""
        with self._lock:
            thread = self._running.get(key)
            if thread is not None and thread.is_alive():
                return False
            self._failures.pop(key, None)
            thread = threading.Thread(target=self._run, args=(key, work), name=name, daemon=True)
            self._running[key] = thread
        thread.start()
        return True

    def _run(self, key: Hashable, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - reported to the observer, never lost
            log.warning("job failed", job=key, error=str(exc))
            with self._lock:
                self._failures[key] = JobFailure(
                    str(exc),
                    self._clock(),
                    retryable=is_retryable(exc),
                    kind=str(getattr(exc, "kind", "cannot_start")),
                    summary=str(getattr(exc, "summary", str(exc).split("\n", 1)[0])),
                )
        finally:
            with self._lock:
                if self._running.get(key) is threading.current_thread():
                    del self._running[key]

    def running(self, key: Hashable) -> bool:
        with self._lock:
            thread = self._running.get(key)
            return thread is not None and thread.is_alive()

    def failure(self, key: Hashable) -> JobFailure | None:
        with self._lock:
            return self._failures.get(key)

    def clear(self, key: Hashable) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def join(self, timeout: float) -> None:
        """Wait for running jobs (tests and clean shutdowns)."""
        deadline = self._clock() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - self._clock()))
