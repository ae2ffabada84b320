"""Failed sign-ins slow down, then lock out; password hashing runs a few at a time.

Each secret check costs an Argon2 verification (64 MiB, tens of milliseconds of CPU), so
unbounded concurrent attempts exhaust memory. `LoginGuard` bounds the concurrent checks
(beyond them: `Throttled`, an HTTP 429 with Retry-After) and counts failures per principal
name and per source address: after `free_failures` every further failure imposes a doubling
wait, and `lockout_failures` lock the key out for `lockout_seconds`. Refused attempts are
refused before any hashing, for known and unknown names alike, so timing reveals nothing.
State is per process: each replica counts on its own (see SECURITY.md).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from code_engine.errors import CodeError

T = TypeVar("T")
MAX_TRACKED = 10_000  # keys remembered; the oldest are forgotten first


class Throttled(CodeError):
    """Too many attempts, or every verification slot busy: try again after `retry_after`."""

    def __init__(self, reason: str, retry_after: float) -> None:
        self.reason = reason
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many sign-in attempts ({reason}); retry in {self.retry_after}s")


@dataclass(frozen=True)
class ThrottlePolicy:
    max_concurrent: int = 2
    wait_for_slot: float = 0.0  # no queue: a waiting thread is one the server lacks
    free_failures: int = 5
    lockout_failures: int = 20
    lockout_seconds: float = 900.0


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Lockout:
    """A key that has just been locked out: for the audit trail."""

    key: str
    failures: int
    until: float


class FailureCounter:
    """Failures per key with backoff and lockout; pure, the clock is passed in."""

    def __init__(self, policy: ThrottlePolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, keys: Sequence[str]) -> tuple[float, bool]:
        """Seconds before `keys` may try again (0: now), and whether that is a lockout."""
        now = self.clock()
        with self._lock:
            waits = [
                (record.blocked_until - now, record.failures >= self.policy.lockout_failures)
                for key in keys
                if (record := self._records.get(key)) is not None
            ]
        blocking = [(wait, locked) for wait, locked in waits if wait > 0]
        if not blocking:
            return 0.0, False
        return max(wait for wait, _ in blocking), any(locked for _, locked in blocking)

    def failed(self, keys: Sequence[str]) -> list[Lockout]:
        """Count a failure for each key; returns the keys this failure locked out."""
        now, policy, locked = self.clock(), self.policy, []
        with self._lock:
            for key in keys:
                record = self._records.pop(key, None) or _Record()
                served = record.failures >= policy.lockout_failures and now >= record.blocked_until
                if served or now - record.last > policy.lockout_seconds:
                    record = _Record()  # a lockout served, or a quiet spell, starts afresh
                record.failures += 1
                record.last = now
                over = record.failures - policy.free_failures
                if record.failures >= policy.lockout_failures:
                    if record.failures == policy.lockout_failures:
                        locked.append(Lockout(key, record.failures, now + policy.lockout_seconds))
                    record.blocked_until = now + policy.lockout_seconds
                elif over > 0:
                    record.blocked_until = now + min(2.0 ** (over - 1), policy.lockout_seconds)
                self._records[key] = record
                while len(self._records) > MAX_TRACKED:
                    self._records.popitem(last=False)
        return locked

    def succeeded(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._records.pop(key, None)


class LoginGuard:
    """The one door for secret checks of the token endpoint and the dashboard's login."""

    def __init__(
        self,
        policy: ThrottlePolicy,
        clock: Callable[[], float],
        *,
        on_throttled: Callable[[str], None] = lambda _reason: None,
        on_lockout: Callable[[Lockout], None] = lambda _lockout: None,
    ) -> None:
        self.policy = policy
        self.failures = FailureCounter(policy, clock)
        self._slots = threading.BoundedSemaphore(policy.max_concurrent)
        self.on_throttled = on_throttled
        self.on_lockout = on_lockout

    def admit(self, name: str, address: str) -> list[str]:
        """Raise Throttled when `name` or `address` must wait; cheap, never blocks."""
        keys = [f"principal:{name}", f"address:{address}"]
        wait, locked = self.failures.wait_for(keys)
        if wait > 0:
            reason = "locked" if locked else "backoff"
            self.on_throttled(reason)
            raise Throttled(reason, wait)
        return keys

    def check(self, name: str, address: str, verify: Callable[[], T | None]) -> T | None:
        """Run `verify` (a secret check) unless throttled; None from it is a failure."""
        keys = self.admit(name, address)
        with self._slot():
            account = verify()
        if account is None:
            for lockout in self.failures.failed(keys):
                self.on_lockout(lockout)
        else:
            # the name's count only: a shared address keeps what others did from it
            self.failures.succeeded(keys[:1])
        return account

    @contextmanager
    def _slot(self) -> Iterator[None]:
        wait = self.policy.wait_for_slot
        free = self._slots.acquire(timeout=wait) if wait > 0 else self._slots.acquire(False)
        if not free:
            self.on_throttled("busy")
            raise Throttled("busy", 1)
        try:
            yield
        finally:
            self._slots.release()
