"""Errors of secret resolution: they name the reference, never a value."""

from __future__ import annotations

from code_engine.errors import CodeError

UNREACHABLE = "unreachable"  # the store did not answer
MISSING = "missing"  # no such path, key, variable or file
DENIED = "denied"  # the store refused CODE's credentials
INVALID = "invalid"  # CODE's settings for the store are incomplete


class SecretError(CodeError):
    """A secret could not be resolved; the message names the reference and why."""

    exit_code = 1

    def __init__(self, reference: str, reason: str, *, kind: str = MISSING) -> None:
        self.reference, self.reason, self.kind = reference, reason, kind
        super().__init__(f"secret {reference}: {reason}")
