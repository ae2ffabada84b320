"""`tail_logs`: the last lines of every log of an environment, then follow them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from code_engine.deploy.local.logfiles import last_lines, rotated
from code_engine.secrets import fingerprints


@dataclass(frozen=True)
class LogLine:
    """One line and the log it came from (`1.2.0-0`, `router`, ...)."""

    source: str
    text: str


class _Follower:
    """Reads what was appended to one file; survives copytruncate rotation."""

    def __init__(self, path: Path, offset: int) -> None:
        self.path = path
        self.offset = offset
        self.partial = b""

    def read_new(self) -> list[str]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        lines: list[str] = []
        if size < self.offset:  # rotated: the end we missed is in `.1`
            lines += self._read(rotated(self.path, 1), self.offset)
            lines += self._flush_partial()
            self.offset = 0
        if size > self.offset:
            lines += self._read(self.path, self.offset)
        return lines

    def _read(self, path: Path, start: int) -> list[str]:
        try:
            with path.open("rb") as handle:
                handle.seek(start)
                data = handle.read()
        except FileNotFoundError:
            return []
        if path == self.path:
            self.offset = start + len(data)
        data = self.partial + data
        *complete, self.partial = data.split(b"\n")
        return [line.decode(errors="replace") for line in complete]

    def _flush_partial(self) -> list[str]:
        rest, self.partial = self.partial, b""
        return [rest.decode(errors="replace")] if rest else []


def tail_logs(
    directory: Path,
    lines: int = 50,
    follow: bool = False,
    *,
    poll_interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LogLine]:
    """Yield the last `lines` lines of each `*.log` in `directory`; with `follow`, keep
    yielding new lines (also of logs created later) until the caller stops iterating.
    Secret values given to the instances are masked (`secrets.fingerprints`)."""
    followers: dict[Path, _Follower] = {}
    masks = fingerprints.redactor(directory)
    for path in sorted(directory.glob("*.log")):
        size = path.stat().st_size
        for text in last_lines(path, lines, end=size):
            yield LogLine(path.stem, text if masks is None else masks.redact(text))
        followers[path] = _Follower(path, size)
    while follow:
        masks = fingerprints.redactor(directory)  # a new release may have new secrets
        for path in sorted(directory.glob("*.log")):
            follower = followers.setdefault(path, _Follower(path, 0))
            for text in follower.read_new():
                yield LogLine(path.stem, text if masks is None else masks.redact(text))
        sleep(poll_interval)
