"""Errors of the traffic routers."""

from __future__ import annotations

from code_engine.errors import CodeError


class RouterError(CodeError):
    """A router refused a change or could not be reached."""


class RouterPortInUse(RouterError):
    """The router's port is taken by another process: trying again will not help."""

    retryable = False
