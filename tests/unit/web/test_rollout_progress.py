"""The dashboard's rollout column: progress of each environment's latest deployment."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from code_engine.store.tables import DeploymentRow
from code_engine.web.views import rollout_of

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _row(status: str, state: dict[str, object] | None = None) -> DeploymentRow:
    return DeploymentRow(
        version="v2", status=status, strategy="canary", state=state or {}, created_at=T0
    )


@pytest.mark.parametrize("status", ["succeeded", "failed", "rolled_back"])
def test_a_deployment_that_ran_to_its_end_is_complete(status: str) -> None:
    rollout = rollout_of("prod", _row(status, {"current_weight": 20, "phase": "analysis"}))
    assert (rollout.percent, rollout.phase) == (100, "")


def test_a_rejected_deployment_never_ran() -> None:
    rollout = rollout_of("prod", _row("rejected"))
    assert (rollout.percent, rollout.phase, rollout.status) == (0, "", "rejected")


def test_a_deployment_awaiting_approval_has_not_started() -> None:
    assert rollout_of("prod", _row("awaiting_approval")).percent == 0


def test_a_canary_shows_its_weight_and_step() -> None:
    state = {
        "current_weight": 25,
        "step_index": 1,
        "phase": "analysis",
        "spec": {"strategy": {"steps": [{}, {}, {}]}},
    }
    rollout = rollout_of("prod", _row("progressing", state))
    assert (rollout.percent, rollout.step, rollout.phase) == (25, "step 2 of 3", "analysis")
