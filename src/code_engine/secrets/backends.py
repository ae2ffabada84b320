"""The secret backends that need no server: `env://` (the worker's environment) and
`file://` (a mounted file, as Kubernetes secrets and Docker secrets appear)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from code_engine.secrets.errors import DENIED, MISSING, SecretError
from code_engine.spec.secret_refs import SecretReference


class SecretBackend(Protocol):
    """One kind of secret store: turns a reference into its value."""

    def resolve(self, reference: SecretReference) -> str:
        """The value `reference` names; SecretError (naming the reference) otherwise."""


class EnvBackend:
    """`env://NAME`: a variable of the process that resolves (the worker)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def resolve(self, reference: SecretReference) -> str:
        value = self.environ.get(reference.key)
        if value is None:
            raise SecretError(str(reference), f"{reference.key} is not set in CODE's environment")
        return value


class FileBackend:
    """`file:///path`: the content of a file, without its final newline."""

    def resolve(self, reference: SecretReference) -> str:
        path = Path(reference.path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SecretError(str(reference), "no such file") from None
        except PermissionError:
            raise SecretError(str(reference), "permission denied", kind=DENIED) from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise SecretError(str(reference), f"cannot read: {reason}", kind=MISSING) from None
        return text.removesuffix("\n")
