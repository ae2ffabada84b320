"""Changes (commits): their one writer and their queries.

Every door that records a commit (the changes route, the batch event route, `codectl
dora import`) calls `record_change`: a commit is stored once per service and sha, keeps
the version `dedupe.latest` keeps, and the deployments that delivered it copy its change
start, whichever arrived first.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.dora.changestarts import record_change_start
from code_engine.dora.claim import Outcome, claim, lock_service
from code_engine.dora.dedupe import latest
from code_engine.dora.events import CommitEvent
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import ChangeRow


def conventional_type(message: str) -> str | None:
    """`feat` for `feat(api)!: x`; None when the subject is not a Conventional Commit."""
    subject = message.split("\n", 1)[0]
    head, sep, rest = subject.partition(":")
    if not sep or not rest.strip():
        return None
    kind = head.split("(", 1)[0].rstrip("!")
    return kind if kind.isalpha() and kind.islower() else None


def record_change(
    session: Session, service_id: int, event: CommitEvent
) -> tuple[ChangeRow, Outcome]:
    """Store a commit of the service (the only writer of `changes`)."""
    lock_service(session, service_id)
    values = {
        "message": event.message,
        "conventional_type": conventional_type(event.message),
        "authored_at": event.authored_at,
        "committed_at": event.committed_at,
        "first_commit_at": event.first_commit_at,
    }
    row, created = claim(session, ChangeRow, {"service_id": service_id, "sha": event.sha}, values)
    if not created:
        stored = CommitEvent(
            sha=row.sha,
            service=event.service,
            authored_at=row.authored_at,
            committed_at=row.committed_at,
            message=row.message,
            first_commit_at=row.first_commit_at,
        )
        if latest(stored, event) is stored:
            return row, "unchanged"
        for name, value in values.items():
            setattr(row, name, value)
        session.flush()
    # Deployments stored before this version of the commit copy its change start.
    record_change_start(session, service_id, event.sha)
    return row, "created" if created else "updated"


def list_changes(
    session: Session, service_id: int | None, limit: int, cursor: str | None
) -> Page[ChangeRow]:
    query = select(ChangeRow)
    if service_id is not None:
        query = query.where(ChangeRow.service_id == service_id)
    return paginate(session, query, ChangeRow.id, limit, cursor)
