"""Errors of the local target."""

from __future__ import annotations

from code_engine.errors import CodeError


class InstanceStartError(CodeError):
    """An instance could not start or never became ready; carries the end of its log."""

    exit_code = 1

    def __init__(self, message: str, log_tail: list[str] | None = None) -> None:
        self.log_tail = log_tail or []
        tail = "\n".join(f"    {line}" for line in self.log_tail)
        super().__init__(f"{message}\n  last log lines:\n{tail}" if tail else message)
