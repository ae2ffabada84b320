"""Roles `viewer < developer < deployer < admin`, bindings optionally scoped to an environment."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from code_engine.errors import UserError


class Role(IntEnum):
    viewer = 1
    developer = 2
    deployer = 3
    admin = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise UserError(f"unknown role {name!r}; expected one of: {names}") from None


@dataclass(frozen=True, order=True)
class Binding:
    """A role, everywhere (`environment=None`) or on one environment only."""

    role: Role
    environment: str | None = None

    def render(self) -> str:
        return (
            self.role.name if self.environment is None else f"{self.role.name}:{self.environment}"
        )

    @classmethod
    def parse(cls, text: str) -> Binding:
        """Parse `role` or `role:environment` as carried in a token's `roles` claim."""
        role, _, environment = text.partition(":")
        return cls(Role.parse(role.strip()), environment.strip() or None)


def allows(bindings: frozenset[Binding], required: Role, environment: str | None = None) -> bool:
    """True when some binding grants `required` (or higher) globally or on `environment`.

    A binding scoped to an environment never grants a request that names no environment.
    """
    for binding in bindings:
        if binding.role < required:
            continue
        if binding.environment is None or binding.environment == environment:
            return True
    return False


def holds(bindings: frozenset[Binding], required: Role) -> bool:
    """True when some binding, global or scoped, grants `required` (or higher)."""
    return any(binding.role >= required for binding in bindings)


def visible_environments(bindings: frozenset[Binding], required: Role) -> frozenset[str] | None:
    """The environments where `required` is granted; None means every one (a global binding)."""
    names: set[str] = set()
    for binding in bindings:
        if binding.role < required:
            continue
        if binding.environment is None:
            return None
        names.add(binding.environment)
    return frozenset(names)
