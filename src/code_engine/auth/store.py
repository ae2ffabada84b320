"""Queries for principals (users and clients) and their role bindings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from code_engine.auth.roles import Binding, Role
from code_engine.store.tables import PrincipalRow, RevokedTokenRow, RoleBindingRow


def find_principal(session: Session, name: str) -> PrincipalRow | None:
    return session.scalars(select(PrincipalRow).where(PrincipalRow.name == name)).first()


def list_principals(session: Session, kind: str | None = None) -> list[PrincipalRow]:
    query = select(PrincipalRow).order_by(PrincipalRow.name)
    if kind:
        query = query.where(PrincipalRow.kind == kind)
    return list(session.scalars(query))


def add_principal(
    session: Session, name: str, kind: str, secret_hash: str, now: datetime
) -> PrincipalRow:
    row = PrincipalRow(name=name, kind=kind, secret_hash=secret_hash, created_at=now)
    session.add(row)
    session.flush()
    return row


def bindings_of(session: Session, principal_id: int) -> frozenset[Binding]:
    rows = session.scalars(
        select(RoleBindingRow).where(RoleBindingRow.principal_id == principal_id)
    )
    return frozenset(Binding(Role[row.role], row.environment) for row in rows)


def add_binding(session: Session, principal_id: int, binding: Binding) -> None:
    exists = session.scalars(
        select(RoleBindingRow).where(
            RoleBindingRow.principal_id == principal_id,
            RoleBindingRow.role == binding.role.name,
            RoleBindingRow.environment.is_(None)
            if binding.environment is None
            else RoleBindingRow.environment == binding.environment,
        )
    ).first()
    if exists is None:
        session.add(
            RoleBindingRow(
                principal_id=principal_id,
                role=binding.role.name,
                environment=binding.environment,
            )
        )


def remove_binding(session: Session, principal_id: int, binding: Binding) -> int:
    query = delete(RoleBindingRow).where(
        RoleBindingRow.principal_id == principal_id, RoleBindingRow.role == binding.role.name
    )
    if binding.environment is None:
        query = query.where(RoleBindingRow.environment.is_(None))
    else:
        query = query.where(RoleBindingRow.environment == binding.environment)
    return session.execute(query).rowcount  # type: ignore[attr-defined,no-any-return]


def principal_count(session: Session) -> int:
    return len(list(session.scalars(select(PrincipalRow.id))))


def revoke_token(
    session: Session, token_id: str, principal: str, now: datetime, expires_at: datetime
) -> None:
    """Withdraw one token; rows of tokens that have expired anyway are dropped."""
    session.execute(delete(RevokedTokenRow).where(RevokedTokenRow.expires_at < now))
    if session.get(RevokedTokenRow, token_id) is None:
        session.add(
            RevokedTokenRow(
                token_id=token_id, principal=principal, revoked_at=now, expires_at=expires_at
            )
        )


def is_revoked(session: Session, token_id: str) -> bool:
    return session.get(RevokedTokenRow, token_id) is not None
