"""The queue of people's commands to a running deployment (pause, resume, abort, promote)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.deploy.rollout import Command
from code_engine.store.tables import DeploymentCommandRow


def add_command(
    session: Session, deployment_id: int, command: Command, principal: str, now: datetime
) -> DeploymentCommandRow:
    """Queue `command`; the controller applies it on its next tick."""
    row = DeploymentCommandRow(
        deployment_id=deployment_id, command=command.value, principal=principal, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def pending_commands(session: Session, deployment_id: int) -> list[DeploymentCommandRow]:
    """Commands not applied yet, in the order they were given."""
    query = (
        select(DeploymentCommandRow)
        .where(
            DeploymentCommandRow.deployment_id == deployment_id,
            DeploymentCommandRow.consumed_at.is_(None),
        )
        .order_by(DeploymentCommandRow.id)
    )
    return list(session.scalars(query))


def consume(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Mark commands applied (in the transaction that persists their effect)."""
    for row_id in ids:
        row = session.get(DeploymentCommandRow, row_id)
        if row is not None and row.consumed_at is None:
            row.consumed_at = now
