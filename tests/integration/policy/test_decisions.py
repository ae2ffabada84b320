"""Decisions in the database: every evaluation recorded with its input's hash; a refusal
stays recorded (with an audit event) when the action's transaction rolls back."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from code_engine.catalog.store import create_service
from code_engine.policy.gate import Gate
from code_engine.policy.inputs import Facts, principal_of
from code_engine.policy.model import PolicyDeniedError, PolicySet, Source
from code_engine.policy.tables import PolicyDecisionRow
from code_engine.store.engine import Database
from code_engine.store.tables import AuditEventRow, ServiceRow

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
POLICY = PolicySet(
    "ops/",
    "data.code.deny",
    (
        Source(
            "ops/prod.rego",
            "package code\n\nimport rego.v1\n\n"
            'deny contains "no prod" if input.environment.name == "prod"\n',
        ),
    ),
    "operator",
)


def facts(environment: str) -> Facts:
    env = {
        "name": environment,
        "index": 0,
        "previous": None,
        "target": "local",
        "timezone": "UTC",
        "protection": {"deployers": [], "requires_previous": False, "approval": False},
    }
    return Facts("deploy", principal_of("alice", set()), NOW, environment=env)


def counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        decisions = session.scalar(select(func.count()).select_from(PolicyDecisionRow))
        denials = session.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.action == "policy.deny.deploy")
        )
    return int(decisions or 0), int(denials or 0)


def test_an_allowed_decision_is_written_with_the_action(database: Database) -> None:
    gate = Gate([POLICY])
    with database.sessions() as session:
        decision = gate.enforce(session, facts("dev"))
        assert decision.allowed and len(decision.input_hash) == 64
        session.rollback()  # the action failed: its decision goes with it
    assert counts(database) == (0, 0)
    with database.session() as session:
        gate.enforce(session, facts("dev"))
    assert counts(database) == (1, 0)


def test_a_refusal_stays_recorded_when_the_action_rolls_back(database: Database) -> None:
    with database.sessions() as session, pytest.raises(PolicyDeniedError) as refused:
        Gate([POLICY]).enforce(session, facts("prod"), resource="service/shop/env/prod")
    assert refused.value.decision.messages == ["no prod"]
    assert [(p.field, p.message) for p in refused.value.problems] == [("ops/", "no prod")]
    assert counts(database) == (1, 1)
    with database.session() as session:
        row = session.scalars(select(PolicyDecisionRow)).one()
        assert (row.action, row.allowed, row.environment) == ("deploy", False, "prod")
        assert row.verdicts[0]["messages"] == ["no prod"]


def test_a_refusal_after_the_caller_wrote_does_not_wait_for_its_lock(database: Database) -> None:
    with database.sessions() as session:
        create_service(session, "shop", "", "", [], NOW)
        session.flush()  # the caller holds the write lock (SQLite) or a row lock
        with pytest.raises(PolicyDeniedError):
            Gate([POLICY]).enforce(session, facts("prod"))
        session.commit()
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ServiceRow)) == 1
    assert counts(database) == (1, 1)


def test_no_policy_means_no_decision(database: Database) -> None:
    with database.session() as session:
        assert Gate().enforce(session, facts("prod")).allowed
    assert counts(database) == (0, 0)
