"""A small, bounded load generator for smoke traffic to one environment's router.

Open loop: request n leaves at `n / rps` seconds whatever the earlier ones do (a hung
request does not slow the rest down, as with real users), with at most `concurrency` in
flight. It only sends to loopback addresses and stops on its own: at most
`MAX_DURATION` and `MAX_REQUESTS`.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from code_engine.errors import UserError

MAX_RPS = 1000.0
MAX_DURATION = 600.0  # seconds
MAX_REQUESTS = 200_000
MAX_CONCURRENCY = 256


def check_target(url: str) -> str:
    """`url` if it is an http URL on a loopback address; UserError otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not host:
        raise UserError(f"cannot send load to {url!r}: an http://HOST:PORT URL is needed")
    loopback = host == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if not loopback:
        raise UserError(
            f"codectl load only sends traffic to this machine (loopback), not to {host}: "
            "use the Prometheus provider on real traffic elsewhere"
        )
    return url


@dataclass(frozen=True)
class LoadPlan:
    """How much traffic: `rps` requests per second for `duration` seconds to `url`."""

    url: str
    rps: float
    duration: float
    concurrency: int = 64
    timeout: float = 10.0

    def __post_init__(self) -> None:
        check_target(self.url)
        if not 0 < self.rps <= MAX_RPS:
            raise UserError(f"--rps must be above 0 and at most {MAX_RPS:g}, got {self.rps:g}")
        if not 0 < self.duration <= MAX_DURATION:
            raise UserError(f"--duration must be above 0 and at most {MAX_DURATION:g} s")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UserError(f"--concurrency must be 1-{MAX_CONCURRENCY}")

    @property
    def total(self) -> int:
        return min(MAX_REQUESTS, max(1, round(self.rps * self.duration)))


@dataclass
class LoadResult:
    """What the requests got: status counts, transport errors, latencies in ms."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    skipped: int = 0  # not sent: `concurrency` requests were already waiting
    elapsed: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def quantile_ms(self, q: float) -> float | None:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, object]:
        ok = sum(n for status, n in self.statuses.items() if status < 500)
        return {
            "sent": self.sent,
            "skipped": self.skipped,
            "seconds": round(self.elapsed, 2),
            "rps": round(self.sent / self.elapsed, 1) if self.elapsed else 0.0,
            "ok": ok,
            "5xx": sum(n for status, n in self.statuses.items() if status >= 500),
            "errors": sum(self.errors.values()),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": _round(self.quantile_ms(0.5)),
            "p95_ms": _round(self.quantile_ms(0.95)),
            "p99_ms": _round(self.quantile_ms(0.99)),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run_load(
    plan: LoadPlan,
    *,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    client: httpx.Client | None = None,
) -> LoadResult:
    """Send `plan.total` requests at `plan.rps`, then wait for the last answers."""
    result = LoadResult()
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(plan.concurrency)
    stop = stop or threading.Event()
    limits = httpx.Limits(max_connections=plan.concurrency)
    http = client or httpx.Client(timeout=plan.timeout, limits=limits)

    def one() -> None:
        began = clock()
        try:
            status = http.get(plan.url).status_code
        except httpx.HTTPError as exc:
            with lock:
                result.errors[type(exc).__name__] += 1
        else:
            with lock:
                result.statuses[status] += 1
                result.latencies_ms.append((clock() - began) * 1000)
        finally:
            slots.release()

    start = clock()
    try:
        with ThreadPoolExecutor(plan.concurrency, thread_name_prefix="load") as pool:
            for n in range(plan.total):
                delay = start + n / plan.rps - clock()
                if (delay > 0 and stop.wait(delay)) or stop.is_set():
                    break
                if not slots.acquire(blocking=False):
                    result.skipped += 1
                    continue
                pool.submit(one)
    finally:
        if client is None:
            http.close()
    result.elapsed = clock() - start
    return result
