"""The example policies (and CODE's own deploy gate) on documents the engine builds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from code_engine.policy.inputs import Facts, build_input, principal_of
from code_engine.policy.rego import Engine
from code_engine.policy.sources import from_directory

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "policies"
ENGINE = Engine(probe=False)


def deny(name: str, facts: Facts, root: Path = EXAMPLES) -> list[str]:
    policy = from_directory(root / f"{name}.rego", f"data.code.{name}.deny")
    verdict = ENGINE.evaluate(policy, build_input(facts))
    assert verdict.error == ""
    return list(verdict.messages)


def facts(
    now: datetime,
    zone: str = "Europe/Paris",
    environment: str = "prod",
    action: str = "deploy",
    **more: Any,
) -> Facts:
    env = {
        "name": environment,
        "index": 0,
        "previous": None,
        "target": "local",
        "timezone": zone,
        "protection": {"deployers": [], "requires_previous": False, "approval": False},
    }
    release = {"version": "1.0.0", "commit": "abc", "qualification": None}
    return Facts(
        action=action,
        principal=principal_of("alice", set()),
        now=now,
        timezone=zone,
        environment=env,
        release=release,
        **more,
    )


FRIDAY_1600_PARIS = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("now", "zone", "refused"),
    [
        (FRIDAY_1600_PARIS, "Europe/Paris", True),
        (datetime(2026, 12, 4, 14, 59, tzinfo=timezone.utc), "Europe/Paris", False),
        # the same instant is 10:00 in New York: the environment's zone decides
        (FRIDAY_1600_PARIS, "America/New_York", False),
        (datetime(2026, 12, 4, 21, 0, tzinfo=timezone.utc), "America/New_York", True),
        (datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc), "Europe/Paris", False),  # Saturday
    ],
)
def test_no_prod_deploys_on_friday_after_1600_local_time(
    now: datetime, zone: str, refused: bool
) -> None:
    assert bool(deny("change_freeze", facts(now, zone))) is refused


def test_the_friday_rule_spares_other_environments_and_rollbacks() -> None:
    assert deny("change_freeze", facts(FRIDAY_1600_PARIS, environment="staging")) == []
    assert deny("change_freeze", facts(FRIDAY_1600_PARIS, action="rollback")) == []


def test_a_declared_freeze_refuses() -> None:
    christmas = datetime(2026, 12, 24, 9, 0, tzinfo=timezone.utc)
    assert deny("change_freeze", facts(christmas)) == [
        "change freeze 2026-12-21 to 2027-01-03: year-end freeze"
    ]


def test_prod_needs_a_qualified_release_and_level_2() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    assert deny("prod_readiness", facts(now)) == [
        "no maturity assessment recorded: run codectl assess and record it",
        "release 1.0.0 is not qualified (qualification: unknown)",
    ]
    ready = facts(now, assessment={"level": 2, "at": now.isoformat()})
    release = {**(ready.release or {}), "qualification": {"status": "qualified"}}
    qualified = replace(ready, release=release)
    assert deny("prod_readiness", qualified) == []


def test_no_self_approval() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    mine = {"id": 9, "status": "awaiting_approval", "requested_by": "alice", "version": "1.0.0"}
    assert deny("four_eyes", facts(now, action="approve", deployment=mine)) == [
        "alice requested deployment 9 and cannot approve it: a second person must"
    ]
    theirs = {**mine, "requested_by": "bob"}
    assert deny("four_eyes", facts(now, action="approve", deployment=theirs)) == []


def test_codes_own_deploy_gate_refuses_prod_without_evidence() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    assert deny("deploy_gate", facts(now), ROOT / "policies") == [
        "commit abc has no successful staging deployment",
        "no coverage report for this release",
        "no vulnerability scan for this release",
    ]
    assert deny("deploy_gate", facts(now, environment="dev"), ROOT / "policies") == []
