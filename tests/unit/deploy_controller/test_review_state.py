"""Approvals as data: the review a waiting deployment carries, and what its statuses mean."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from code_engine.deploy import approvals, store
from code_engine.deploy import environments as envs
from code_engine.dora.events import final_status
from code_engine.spec import Protection

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)


def test_a_request_keeps_who_asked_and_who_may_approve() -> None:
    rules = Protection(approval=True, deployers=["release-bot", "deployer:prod"])
    state = approvals.request(rules, "prod", "alice", NOW)
    assert state["review"] == {
        "requested_by": "alice",
        "requested_at": "2026-11-02T12:00:00+00:00",
        "deployers": ["release-bot", "deployer:prod"],
        "decision": None,
    }
    assert state["events"] == [
        {
            "at": "2026-11-02T12:00:00+00:00",
            "status": "awaiting_approval",
            "reason": "approval required",
            "message": "awaiting approval by a second deployer of prod",
            "by": "alice",
        }
    ]


def test_an_event_carries_its_comment_only_when_given() -> None:
    assert "comment" not in approvals.event(NOW, "pending", "approved", "ok", "bob")
    assert approvals.event(NOW, "rejected", "rejected", "no", "bob", "freeze")["comment"] == (
        "freeze"
    )


def test_every_status_is_either_open_or_final() -> None:
    assert set(envs.OPEN_STATUSES) | store.FINAL_STATUSES == set(store.STATUSES)
    assert not set(envs.OPEN_STATUSES) & store.FINAL_STATUSES
    assert envs.AWAITING_APPROVAL not in envs.ACTIVE_STATUSES  # the controller never runs it


@pytest.mark.parametrize("status", ["awaiting_approval", "rejected"])
def test_neither_a_waiting_nor_a_rejected_deployment_is_a_dora_deployment(status: str) -> None:
    assert final_status(status) is None
