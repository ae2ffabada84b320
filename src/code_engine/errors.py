"""The error family of CODE: each error knows the exit code the CLI gives it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


class CodeError(Exception):
    """Base of every error CODE raises on purpose; the CLI prints it without a traceback."""

    exit_code = 3


class UserError(CodeError):
    """Bad input: a file, flag or value the user can fix (exit code 2)."""

    exit_code = 2


class ConfigError(ValueError, UserError):
    """An invalid setting or configuration file."""


class PayloadError(ValueError, UserError):
    """A submitted payload is invalid: one `field path: message` line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))

    def prefixed(self, path: str) -> PayloadError:
        """The same problems, located under `path` (e.g. `events.3`)."""
        return PayloadError(f"{path}.{problem}" for problem in self.problems)


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: 1-based line and column, and the dotted field path."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


@dataclass
class InvalidFileError(UserError):
    """A file failed validation; carries one location per problem."""

    problems: list[Location] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.render() for p in self.problems)


class CheckFailedError(CodeError):
    """A check, gate or threshold was not met (exit code 1)."""

    exit_code = 1


class NotFoundError(UserError):
    """A named resource does not exist."""


class ConflictError(UserError):
    """The request conflicts with the current state."""
