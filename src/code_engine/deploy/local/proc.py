"""What Linux says about a process: alive, its start time, its command line; and signals
to its whole process group (instances run in their own session)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

PROC = Path("/proc")
T = TypeVar("T")


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last `)`.
    return raw.rsplit(b")", 1)[-1].split()


def start_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks since boot; None if there is no such pid.

    Together with the pid it names one process: a reused pid has another start time.
    """
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def process_age(pid: int) -> float | None:
    """Seconds since the process started (by the kernel's clock since boot, which no clock
    change moves); None if there is no such pid."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    try:
        uptime = float((PROC / "uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))


def pid_alive(pid: int) -> bool:
    """True when `pid` runs (a zombie, dead but not yet reaped, counts as gone once its
    other threads have ended too: until then they hold its files, sockets and ports)."""
    fields = _stat_fields(pid)
    if not fields:
        return False
    if fields[0] != b"Z":
        return True
    try:
        return sum(1 for _ in (PROC / str(pid) / "task").iterdir()) > 1
    except OSError:
        return False


def cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_same_process(pid: int, ticks: int | None) -> bool:
    """Whether `pid` is still the process that started at `ticks` and is alive."""
    return pid > 0 and pid_alive(pid) and (ticks is None or start_ticks(pid) == ticks)


def reap(pid: int) -> None:
    """Collect the exit status if `pid` is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def signal_group(pid: int, signum: int) -> None:
    """Signal the process group led by `pid` (falls back to the process alone)."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    except PermissionError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def stop_processes(
    items: list[T],
    grace: float,
    running: Callable[[T], bool],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    pid_of: Callable[[T], int] = lambda item: int(getattr(item, "pid", 0)),
) -> None:
    """SIGTERM the groups of every running item, wait up to `grace`, SIGKILL the rest."""
    alive = [item for item in items if running(item)]
    for item in alive:
        signal_group(pid_of(item), signal.SIGTERM)
    deadline = clock() + grace
    while alive and clock() < deadline:
        sleep(0.05)
        alive = [item for item in alive if running(item)]
    for item in alive:
        signal_group(pid_of(item), signal.SIGKILL)
    for _ in range(250):
        if not any(running(item) for item in alive):
            return
        sleep(0.02)
