"""A function run every few seconds on a daemon thread, surviving its own failures."""

from __future__ import annotations

import threading
from collections.abc import Callable

from code_engine.observe.logging import get_logger

log = get_logger(__name__)


class PeriodicTask:
    def __init__(self, function: Callable[[], object], name: str) -> None:
        self.function = function
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval: float) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), daemon=True, name=self.name
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._run_once()

    def _run_once(self) -> None:
        try:
            self.function()
        except Exception:  # one failed pass must not end supervision
            log.exception("periodic pass failed", task=self.name)
