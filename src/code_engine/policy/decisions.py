"""One writer for `policy_decisions`: every evaluation, and an audit event for a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.policy.model import Decision
from code_engine.policy.tables import PolicyDecisionRow


@dataclass(frozen=True)
class Subject:
    """What the decision was about, for the record."""

    principal: str
    service: str | None = None
    environment: str | None = None
    version: str | None = None
    resource: str = ""


def record(session: Session, decision: Decision, subject: Subject, at: datetime) -> int | None:
    """Write the decision (and, when refused, an audit event); the refusal's row id.

    An allowed decision is written with the action, in the caller's transaction and unit of
    work: it is added to the session, and goes to the database with the action's own writes
    (it is gone if they roll back, as the action is). A refusal is committed on a connection
    of its own, because the caller rolls back: unless the caller already holds SQLite's write
    lock, where a second writer would wait for it forever; then it stays in the caller's
    transaction too.
    """
    if decision.allowed:
        session.add(_row(decision, subject, at))
        return None
    if _holds_sqlite_writes(session):
        return _write(session, decision, subject, at)
    with Session(session.get_bind()) as own, own.begin():
        return _write(own, decision, subject, at)


def _holds_sqlite_writes(session: Session) -> bool:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not session.in_transaction():
        return False
    driver = session.connection().connection.driver_connection
    return bool(getattr(driver, "in_transaction", False))


def _row(decision: Decision, subject: Subject, at: datetime) -> PolicyDecisionRow:
    return PolicyDecisionRow(
        at=at,
        action=decision.action,
        principal=subject.principal,
        service=subject.service,
        environment=subject.environment,
        version=subject.version,
        allowed=decision.allowed,
        input_hash=decision.input_hash,
        duration_ms=decision.duration_ms,
        verdicts=decision.to_dict()["policies"],
    )


def _write(session: Session, decision: Decision, subject: Subject, at: datetime) -> int:
    row = _row(decision, subject, at)
    session.add(row)
    session.flush()
    if not decision.allowed:
        audit.record(
            session,
            at=at,
            principal=subject.principal,
            action=f"policy.deny.{decision.action}",
            resource=subject.resource,
            outcome="denied",
            detail={
                "decision": row.id,
                "messages": decision.messages,
                "input_hash": decision.input_hash,
            },
        )
    return row.id


def recent(session: Session, limit: int = 50) -> list[PolicyDecisionRow]:
    query = select(PolicyDecisionRow).order_by(PolicyDecisionRow.id.desc()).limit(limit)
    return list(session.scalars(query))
