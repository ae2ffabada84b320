"""Queries for services and environments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.errors import ConflictError, NotFoundError
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import EnvironmentRow, ServiceRow


@dataclass(frozen=True)
class EnvironmentDraft:
    name: str
    target_kind: str = "local"
    requires_previous: bool = False


def find_service(session: Session, name: str) -> ServiceRow | None:
    return session.scalars(select(ServiceRow).where(ServiceRow.name == name)).first()


def require_service(session: Session, name: str) -> ServiceRow:
    row = find_service(session, name)
    if row is None:
        raise NotFoundError(f"no service named {name!r}")
    return row


def list_services(session: Session, limit: int, cursor: str | None) -> Page[ServiceRow]:
    return paginate(session, select(ServiceRow), ServiceRow.id, limit, cursor)


def create_service(
    session: Session,
    name: str,
    repo: str,
    description: str,
    environments: Sequence[EnvironmentDraft],
    now: datetime,
) -> ServiceRow:
    if find_service(session, name) is not None:
        raise ConflictError(f"service {name!r} already exists")
    row = ServiceRow(name=name, repo=repo, description=description, created_at=now)
    session.add(row)
    session.flush()
    sync_environments(session, row, environments, now)
    return row


def sync_environments(
    session: Session, service: ServiceRow, drafts: Sequence[EnvironmentDraft], now: datetime
) -> list[EnvironmentRow]:
    """Make the service's environments match `drafts` in order (existing ones are updated)."""
    existing = {env.name: env for env in list_environments(session, service.id)}
    rows = []
    for position, draft in enumerate(drafts):
        env = existing.get(draft.name)
        if env is None:
            env = EnvironmentRow(service_id=service.id, name=draft.name, created_at=now)
            session.add(env)
        env.position = position
        env.target_kind = draft.target_kind
        env.requires_previous = draft.requires_previous
        rows.append(env)
    session.flush()
    return rows


def list_environments(session: Session, service_id: int) -> list[EnvironmentRow]:
    query = (
        select(EnvironmentRow)
        .where(EnvironmentRow.service_id == service_id)
        .order_by(EnvironmentRow.position)
    )
    return list(session.scalars(query))


def require_environment(session: Session, service_id: int, name: str) -> EnvironmentRow:
    row = session.scalars(
        select(EnvironmentRow).where(
            EnvironmentRow.service_id == service_id, EnvironmentRow.name == name
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no environment named {name!r}")
    return row


def environment_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(EnvironmentRow.id, EnvironmentRow.name).where(EnvironmentRow.id.in_(ids))
    )
    return {row.id: row.name for row in rows}
