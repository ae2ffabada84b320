"""Stored assessments of a service: record one, read the trend."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.assess.report import SCHEMA_FILES, SCHEMA_VERSION
from code_engine.errors import PayloadError
from code_engine.store.tables import AssessmentRow

if TYPE_CHECKING:
    import jsonschema


@cache
def _validator(version: str) -> jsonschema.Draft202012Validator:
    # imported on first use: jsonschema loads its format checkers at import (with the
    # `format` extra, an RFC 3987 grammar compiled on the spot), a second of every server
    # and CLI start that never validates a report
    import jsonschema

    text = resources.files("code_engine.assess").joinpath(SCHEMA_FILES[version])
    return jsonschema.Draft202012Validator(json.loads(text.read_text(encoding="utf-8")))


def validate_report(report: dict[str, Any]) -> None:
    """Raise PayloadError naming every field of `report` that breaks the report schema (of its
    `schema_version`: 1 and 2 are accepted; anything else is checked against the newest)."""
    version = str(report.get("schema_version"))
    validator = _validator(version if version in SCHEMA_FILES else SCHEMA_VERSION)
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    if errors:
        raise PayloadError(
            f"{'.'.join(str(p) for p in e.absolute_path) or 'report'}: {e.message}"
            for e in errors[:20]
        )


def record(
    session: Session, service_id: int, report: dict[str, Any], now: datetime
) -> AssessmentRow:
    validate_report(report)
    row = AssessmentRow(
        service_id=service_id, level=int(report["level"]), report=report, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def trend(session: Session, service_id: int, limit: int = 100) -> list[AssessmentRow]:
    """The newest `limit` assessments, oldest first."""
    query = (
        select(AssessmentRow)
        .where(AssessmentRow.service_id == service_id)
        .order_by(AssessmentRow.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(query))))


def latest(session: Session, service_id: int) -> AssessmentRow | None:
    rows = trend(session, service_id, limit=1)
    return rows[0] if rows else None
