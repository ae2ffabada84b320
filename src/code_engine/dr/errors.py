"""The errors of disaster recovery, each with the exit code `codectl dr` documents.

0 ok · 1 a verification, integrity check or drill failed · 2 bad input (key, date, id,
source, target) · 3 the environment failed (store unreachable, disk full, a tool failed).
"""

from __future__ import annotations

from code_engine.errors import CheckFailedError, CodeError, NotFoundError, UserError


class DrError(CodeError):
    """An environment fault during backup or restore (exit code 3)."""


class KeyProblemError(UserError):
    """The backup key is missing, malformed, or not the one a snapshot was written with."""


class IntegrityError(CheckFailedError):
    """An object is missing, truncated or altered, or a restored copy failed its checks."""


class SnapshotNotFoundError(NotFoundError):
    """No snapshot matches; the message lists the nearest ones."""


class SourceMismatchError(UserError):
    """A manifest belongs to another source than the one asked for."""


class StoreUnavailableError(DrError):
    """The store did not answer, or kept answering errors after the retries."""


class DiskFullError(DrError):
    """The target ran out of space; nothing was put in place."""


class TargetExistsError(UserError):
    """The restore target exists and `--force` was not given."""
