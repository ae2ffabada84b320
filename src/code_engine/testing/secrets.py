"""An in-memory secret store: a `SecretBackend` for unit tests of resolution logic."""

from __future__ import annotations

from dataclasses import dataclass, field

from code_engine.secrets.errors import UNREACHABLE, SecretError
from code_engine.spec.secret_refs import SecretReference


@dataclass
class FakeSecretStore:
    """Values by reference text; `down` makes every read fail as an unreachable store."""

    values: dict[str, str] = field(default_factory=dict)
    down: bool = False
    reads: list[str] = field(default_factory=list)

    def resolve(self, reference: SecretReference) -> str:
        self.reads.append(str(reference))
        if self.down:
            raise SecretError(str(reference), "the store is unreachable", kind=UNREACHABLE)
        if str(reference) not in self.values:
            raise SecretError(str(reference), "no such secret")
        return self.values[str(reference)]
