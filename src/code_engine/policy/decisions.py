"""One writer for `policy_decisions`: every evaluation, and an audit event for a refusal.

A decision is committed on its own connection, before the action writes anything: a
refusal rolls the request back, and its record must stay.
"""

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


def record(session: Session, decision: Decision, subject: Subject, at: datetime) -> int:
    """Write the decision (and, when refused, an audit event) in a transaction of its own."""
    with Session(session.get_bind()) as own, own.begin():
        row = PolicyDecisionRow(
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
        own.add(row)
        own.flush()
        if not decision.allowed:
            audit.record(
                own,
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
