"""Errors of the local target, and which of them are worth retrying."""

from __future__ import annotations

import errno

from code_engine.errors import CodeError

# Passing shortages: trying again a little later may work.
RETRYABLE_ERRNOS = frozenset(
    {errno.EAGAIN, errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EINTR, errno.EBUSY,
     errno.ETXTBSY, errno.ENOBUFS}
)  # fmt: skip
CRASHED = "crashed"  # the process exited before it was ready
NOT_READY = "not_ready"  # it ran but never answered its health path in time
CANNOT_START = "cannot_start"  # it could not be started at all (a full disk, no command, ...)
PORT_IN_USE = "port_in_use"  # it exited because its port was taken
UNRESOLVED = "unresolved"  # a secret it needs could not be resolved from its store


class InstanceStartError(CodeError):
    """An instance could not start or never became ready; carries the end of its log.

    `kind` says what happened (crashed, not_ready, cannot_start, port_in_use); `retryable`
    whether trying again may help (a passing shortage), else the release cannot start.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        log_tail: list[str] | None = None,
        *,
        kind: str = CRASHED,
        retryable: bool = False,
    ) -> None:
        self.log_tail = log_tail or []
        self.kind = kind
        self.retryable = retryable
        self.summary = message
        tail = "\n".join(f"    {line}" for line in self.log_tail)
        super().__init__(f"{message}\n  last log lines:\n{tail}" if tail else message)


def os_error_text(exc: OSError) -> str:
    """`[Errno 28] No space left on device: '/path'`, with both paths of a rename."""
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc)
    where = [repr(str(p)) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{text} ({name})" + (f": {' -> '.join(where)}" if where else "")


def start_error(label: str, exc: OSError) -> InstanceStartError:
    """The error of an instance whose process could not be started."""
    retryable = exc.errno in RETRYABLE_ERRNOS
    return InstanceStartError(
        f"cannot start {label}: {os_error_text(exc)}", kind=CANNOT_START, retryable=retryable
    )


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed start may succeed when tried again."""
    if isinstance(exc, InstanceStartError):
        return exc.retryable
    if isinstance(exc, OSError):
        return exc.errno in RETRYABLE_ERRNOS
    return False
