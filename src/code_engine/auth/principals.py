"""Service functions for users and clients: create, authenticate, bind roles, bootstrap."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from code_engine.auth import store
from code_engine.auth.passwords import hash_secret, new_secret, verify_secret
from code_engine.auth.roles import Binding, Role
from code_engine.clock import Clock
from code_engine.errors import ConflictError, NotFoundError, UserError
from code_engine.store.engine import Database
from code_engine.store.tables import PrincipalRow

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class Credentials:
    """A freshly created client: the secret is shown once and never stored in clear."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Account:
    name: str
    kind: str
    disabled: bool
    bindings: frozenset[Binding]


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise UserError(f"invalid name {name!r}: letters, digits and . _ @ - only")


@dataclass(frozen=True)
class RoleChange:
    """A change of a principal's roles, as a policy check sees it."""

    principal: str
    grant: tuple[Binding, ...] = ()
    revoke: tuple[Binding, ...] = ()


# Asked before a role change is written; raises to refuse it (the interface wires policies).
RoleCheck = Callable[[Session, RoleChange], None]


def create_user(
    db: Database,
    clock: Clock,
    name: str,
    password: str,
    bindings: frozenset[Binding],
    check: RoleCheck | None = None,
) -> Account:
    _check_name(name)
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    return _create(db, clock, name, "user", hash_secret(password), bindings, check)


def create_client(
    db: Database,
    clock: Clock,
    name: str,
    bindings: frozenset[Binding],
    secret: str | None = None,
    check: RoleCheck | None = None,
) -> Credentials:
    _check_name(name)
    secret = secret or new_secret()
    _create(db, clock, name, "client", hash_secret(secret), bindings, check)
    return Credentials(client_id=name, client_secret=secret)


def _create(
    db: Database,
    clock: Clock,
    name: str,
    kind: str,
    secret_hash: str,
    bindings: frozenset[Binding],
    check: RoleCheck | None = None,
) -> Account:
    with db.session() as session:
        if store.find_principal(session, name) is not None:
            raise ConflictError(f"principal {name!r} already exists")
        if check is not None:  # a new principal's roles are a role change too
            granted = tuple(sorted(bindings, key=lambda binding: binding.render()))
            check(session, RoleChange(name, grant=granted))
        row = store.add_principal(session, name, kind, secret_hash, clock())
        for binding in bindings:
            store.add_binding(session, row.id, binding)
    return Account(name=name, kind=kind, disabled=False, bindings=bindings)


def authenticate(db: Database, kind: str, name: str, secret: str) -> Account | None:
    """The account when name and secret match an enabled principal of `kind`, else None."""
    with db.session() as session:
        row = store.find_principal(session, name)
        usable = row is not None and row.kind == kind and not row.disabled
        ok = verify_secret(row.secret_hash if usable and row else None, secret)
        if not (ok and row is not None):
            return None
        return Account(row.name, row.kind, row.disabled, store.bindings_of(session, row.id))


def grant(db: Database, name: str, binding: Binding, check: RoleCheck | None = None) -> None:
    with db.session() as session:
        row = _require(session, name)
        if check is not None:
            check(session, RoleChange(name, grant=(binding,)))
        store.add_binding(session, row.id, binding)


def revoke(db: Database, name: str, binding: Binding, check: RoleCheck | None = None) -> None:
    with db.session() as session:
        row = _require(session, name)
        if check is not None:
            check(session, RoleChange(name, revoke=(binding,)))
        if store.remove_binding(session, row.id, binding) == 0:
            raise NotFoundError(f"{name!r} has no binding {binding.render()!r}")


def ensure_principal(db: Database, name: str, bindings: frozenset[Binding]) -> None:
    """A client `name` holding at least `bindings` (created without a usable secret); for
    tests and fixtures that issue tokens directly."""
    with db.session() as session:
        row = store.find_principal(session, name)
        if row is None:
            row = store.add_principal(session, name, "client", "!", datetime.now(timezone.utc))
        for binding in bindings:
            store.add_binding(session, row.id, binding)


def set_disabled(db: Database, name: str, disabled: bool) -> None:
    with db.session() as session:
        _require(session, name).disabled = disabled


def list_accounts(db: Database, kind: str | None = None) -> list[Account]:
    with db.session() as session:
        return [
            Account(r.name, r.kind, r.disabled, store.bindings_of(session, r.id))
            for r in store.list_principals(session, kind)
        ]


def bootstrap_admin(  # an empty secret means: generate one  # nosec B107
    db: Database, clock: Clock, client_id: str = "", client_secret: str = ""
) -> Credentials | None:
    """Create the first admin client when there is no principal at all; None otherwise."""
    with db.session() as session:
        if store.principal_count(session) > 0:
            return None
    name = client_id or f"admin-{secrets.token_hex(3)}"
    return create_client(db, clock, name, frozenset({Binding(Role.admin)}), client_secret or None)


def _require(session: Session, name: str) -> PrincipalRow:
    row = store.find_principal(session, name)
    if row is None:
        raise NotFoundError(f"no user or client named {name!r}")
    return row
