"""A thread fed through a bounded queue, the building block of the data path's pipelines."""

from __future__ import annotations

import queue
import threading

AHEAD = 4  # chunks in flight between two stages


class Stage:
    """A thread that handles the chunks fed to it, in order; its first error is raised to
    the feeder (at the next `feed`, or at `close`), and after it nothing more is handled."""

    def __init__(self, name: str) -> None:
        self.inbox: queue.Queue[tuple[bytes, bool] | None] = queue.Queue(AHEAD)
        self.error: BaseException | None = None
        self.abandoned = False
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def handle(self, chunk: bytes, final: bool) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while (item := self.inbox.get()) is not None:
            if self.error is None and not self.abandoned:
                try:
                    self.handle(*item)
                except BaseException as exc:  # noqa: BLE001 - handed to the feeding thread
                    self.error = exc

    def feed(self, chunk: bytes, final: bool) -> None:
        self.raise_error()
        self.inbox.put((chunk, final))

    def close(self) -> None:
        """Handle what is queued, stop the thread, raise its first error."""
        self.inbox.put(None)
        self.thread.join()
        self.raise_error()

    def abandon(self) -> None:
        """Stop the thread without handling what is still queued (the feeder failed)."""
        self.abandoned = True
        self.inbox.put(None)
        self.thread.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error
