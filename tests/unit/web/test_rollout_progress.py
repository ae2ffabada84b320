"""The dashboard's rollout column: progress of each environment's latest deployment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from code_engine.deploy.rollout import (
    Canary,
    Pause,
    Phase,
    RolloutSpec,
    SetWeight,
    new_rollout,
    state_to_dict,
)
from code_engine.store.tables import DeploymentRow
from code_engine.web.views import rollout_of

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _row(status: str, state: dict[str, Any] | None = None) -> DeploymentRow:
    return DeploymentRow(
        version="v2", status=status, strategy="canary", state=state or {}, created_at=T0
    )


def _canary_state(step_index: int, weight: int) -> dict[str, Any]:
    """A run deployment's state as the controller stores it (the rollout codec's data)."""
    spec = RolloutSpec(Canary((SetWeight(25), Pause(timedelta(minutes=1)), SetWeight(50))))
    state = replace(
        new_rollout("d1", "v2", "v1", spec),
        phase=Phase.STEPPING,
        step_index=step_index,
        current_weight=weight,
    )
    return state_to_dict(state)


@pytest.mark.parametrize("status", ["succeeded", "failed", "rolled_back"])
def test_a_deployment_that_ran_to_its_end_is_complete(status: str) -> None:
    rollout = rollout_of("prod", _row(status, _canary_state(1, 25)))
    assert (rollout.percent, rollout.phase) == (100, "")


def test_a_rejected_deployment_never_ran() -> None:
    rollout = rollout_of("prod", _row("rejected"))
    assert (rollout.percent, rollout.phase, rollout.status) == (0, "", "rejected")


def test_a_deployment_awaiting_approval_has_not_started() -> None:
    assert rollout_of("prod", _row("awaiting_approval")).percent == 0


def test_a_canary_shows_its_weight_and_step() -> None:
    rollout = rollout_of("prod", _row("progressing", _canary_state(1, 25)))
    assert (rollout.percent, rollout.weight) == (25, 25)
    assert (rollout.step, rollout.phase) == ("step 2 of 3", "stepping")


def test_a_recorded_deployment_has_no_rollout_to_show() -> None:
    hand_written = {"current_weight": 25, "phase": "analysis"}  # not a rollout state
    rollout = rollout_of("prod", _row("progressing", hand_written))
    assert (rollout.percent, rollout.weight, rollout.step, rollout.phase) == (0, None, "", "")


def test_a_state_holding_only_the_progress_fields_shows_them() -> None:
    state = {
        "format": 1,
        "phase": "stepping",
        "step_index": 3,
        "current_weight": 25,
        "spec": {"strategy": {"kind": "canary", "steps": [{"set_weight": 10}] * 6}},
    }
    rollout = rollout_of("prod", _row("progressing", state))
    assert (rollout.percent, rollout.step, rollout.phase) == (25, "step 4 of 6", "stepping")


def test_an_unknown_state_format_shows_no_progress() -> None:
    state = {**_canary_state(1, 25), "format": 99}
    assert rollout_of("prod", _row("progressing", state)).step == ""
