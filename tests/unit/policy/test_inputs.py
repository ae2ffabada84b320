"""The input document: its shape (the JSON Schema), the time in the environment's zone."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

import code_engine.policy
from code_engine.auth.roles import Binding, Role
from code_engine.policy.inputs import Facts, build_input, input_hash, principal_of

SCHEMA = json.loads(
    (Path(code_engine.policy.__file__).parent / "input.schema.json").read_text(encoding="utf-8")
)
FRIDAY = datetime(2026, 12, 4, 15, 30, tzinfo=timezone.utc)  # 16:30 in Paris


def validate(document: dict[str, object]) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def full_facts(action: str = "approve") -> Facts:
    return Facts(
        action=action,
        principal=principal_of("alice", {Binding(Role.deployer, "prod"), Binding(Role.viewer)}),
        now=FRIDAY,
        timezone="Europe/Paris",
        service={"name": "shop", "repo": "/srv/shop"},
        environment={
            "name": "prod",
            "index": 2,
            "previous": "staging",
            "target": "local",
            "timezone": "Europe/Paris",
            "protection": {
                "deployers": ["admin"],
                "requires_previous": True,
                "approval": True,
                "requires_pipeline": True,
            },
        },
        release={"version": "1.0.0", "commit": "a" * 40, "qualification": None},
        history=[
            {
                "id": 3,
                "environment": "staging",
                "version": "1.0.0",
                "commit": "a" * 40,
                "status": "succeeded",
                "trigger": "manual",
                "created_by": "bob",
                "created_at": "2026-12-03T10:00:00+00:00",
                "finished_at": None,
            }
        ],
        assessment={"level": 2, "at": "2026-12-01T00:00:00+00:00"},
        approvals=[{"by": "bob", "decision": "approved", "at": "2026-12-04T15:00:00+00:00"}],
        deployment={"id": 4, "status": "awaiting_approval", "requested_by": "bob", "version": "1"},
    )


def test_a_full_document_validates_against_the_schema() -> None:
    validate(build_input(full_facts()))


def test_a_minimal_document_validates_against_the_schema() -> None:
    document = build_input(Facts("change_roles", principal_of("ci", set()), FRIDAY))
    validate({**document, "subject": {"principal": "ci", "grant": ["deployer"], "revoke": []}})


def test_an_unknown_action_is_refused_by_the_schema() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(build_input(full_facts("delete_everything")))


def test_time_in_the_environments_zone() -> None:
    time = build_input(full_facts())["time"]
    assert time == {
        "utc": "2026-12-04T15:30:00Z",
        "unix_ns": int(FRIDAY.timestamp()) * 1_000_000_000,
        "timezone": "Europe/Paris",
        "local": "2026-12-04T16:30:00+01:00",
        "date": "2026-12-04",
        "weekday": "Friday",
        "hour": 16,
        "minute": 30,
    }


def test_principal_roles_global_and_per_environment() -> None:
    bindings = {Binding(Role.deployer, "prod"), Binding(Role.admin, "dev"), Binding(Role.viewer)}
    assert principal_of("alice", bindings) == {
        "id": "alice",
        "roles": ["viewer"],
        "scopes": {"dev": ["admin"], "prod": ["deployer"]},
    }


def test_missing_qualification_reads_unknown() -> None:
    assert build_input(full_facts())["release"]["qualification"] == {"status": "unknown"}


def test_the_hash_is_of_the_canonical_document() -> None:
    document = build_input(full_facts())
    assert input_hash(document) == input_hash(dict(reversed(list(document.items()))))
    assert input_hash(document) != input_hash({**document, "action": "deploy"})


def test_docs_carry_the_schema_file() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "policy.md").read_text(encoding="utf-8")
    block = docs.split("### JSON Schema", 1)[1].split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == SCHEMA
