"""The policy check of `codectl users grant|revoke`: operator-wide policies decide role
changes (`change_roles`), asked by the local operator, who holds the database."""

from __future__ import annotations

import getpass

from sqlalchemy.orm import Session

from code_engine.auth.principals import RoleChange, RoleCheck
from code_engine.clock import utc_now
from code_engine.policy.gate import gate_for
from code_engine.policy.inputs import Facts
from code_engine.settings import Settings


def operator_id() -> str:
    """Who changes roles from the command line: the local account with database access."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:unknown"


def role_check(settings: Settings) -> RoleCheck:
    gate = gate_for(settings.policy_paths, settings.policy_timeout_seconds)

    def check(session: Session, change: RoleChange) -> None:
        facts = Facts(
            action="change_roles",
            principal={"id": operator_id(), "roles": ["admin"], "scopes": {}},
            now=utc_now(),
            subject={
                "principal": change.principal,
                "grant": [b.render() for b in change.grant],
                "revoke": [b.render() for b in change.revoke],
            },
        )
        gate.enforce(session, facts, resource=f"principal/{change.principal}")

    return check
