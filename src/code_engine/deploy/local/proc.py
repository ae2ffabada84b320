"""What Linux says about a process: alive, its start time, its command line; and signals
to its whole process group (instances run in their own session)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")


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


def pid_alive(pid: int) -> bool:
    """True when `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    fields = _stat_fields(pid)
    return fields is not None and len(fields) > 0 and fields[0] != b"Z"


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


def terminate(
    pid: int,
    grace: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """SIGTERM the group, wait up to `grace` seconds, then SIGKILL. True if it exited in time."""
    signal_group(pid, signal.SIGTERM)
    deadline = clock() + grace
    while clock() < deadline:
        reap(pid)
        if not pid_alive(pid):
            return True
        sleep(0.05)
    signal_group(pid, signal.SIGKILL)
    for _ in range(100):
        reap(pid)
        if not pid_alive(pid):
            break
        sleep(0.02)
    return False
