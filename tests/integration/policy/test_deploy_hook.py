"""The decision points of delivery on a real git repository and database: each asks the
policies with an input that validates against the schema; an abort does not need the
repository."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.support.git import git

import code_engine.policy
from code_engine.auth.roles import Binding, Role
from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.deploy.gitrepo import open_repository
from code_engine.deploy.releases import create_release
from code_engine.deploy.rollout import Command
from code_engine.deploy.service import (
    Actor,
    DeployContext,
    DeployRequest,
    send_command,
    start_deployment,
)
from code_engine.policy.gate import Gate
from code_engine.policy.inputs import Facts
from code_engine.policy.model import Decision, PolicyDeniedError, PolicySet, Source
from code_engine.store.engine import Database

SCHEMA = json.loads(
    (Path(code_engine.policy.__file__).parent / "input.schema.json").read_text(encoding="utf-8")
)
NOW = datetime(2026, 12, 4, 15, 30, tzinfo=timezone.utc)
ALICE = Actor("alice", frozenset({Binding(Role.admin)}))
SPEC = """\
service: shop
repo: .
environments:
  - name: prod
    target: {kind: local, command: "run --port {port}"}
    # the pipeline's gate is another test's subject: these ask the policies only
    protection: {approval: true, requires_pipeline: false}
    timezone: Europe/Paris
"""


class Recording(Gate):
    """A gate that keeps every input it was asked about."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[dict[str, Any]] = []

    def decide(self, facts: Facts, service_sets: Any = ()) -> Decision:
        decision = super().decide(facts, service_sets)
        self.asked.append(decision.input)
        return decision


def operator(rego: str) -> PolicySet:
    return PolicySet("ops/", "data.code.deny", (Source("ops/p.rego", rego),), "operator")


ALLOW = operator("package code\n\nimport rego.v1\n\ndeny contains m if {\n\tm := input.x\n}\n")
NO_ABORT = operator(
    'package code\n\nimport rego.v1\n\ndeny contains "no aborts" if input.action == "abort"\n'
)


@pytest.fixture
def context(database: Database, tmp_path: Path) -> DeployContext:
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "code.yaml").write_text(SPEC)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat: shop")
    data = tmp_path / "data"
    ctx = DeployContext(NOW, data, lambda r: open_repository(r, data))
    with database.session() as session:
        create_service(session, "shop", str(repo), "", [EnvironmentDraft("prod")], NOW)
    return ctx


def test_every_decision_point_asks_with_a_valid_input(
    database: Database, context: DeployContext
) -> None:
    gate = Recording([ALLOW])
    ctx = replace(context, policy=gate)
    with database.session() as session:
        create_release(session, ctx, ALICE, "shop", "1.0.0")
    with database.session() as session:
        row = start_deployment(session, ctx, ALICE, DeployRequest("shop", "prod", "1.0.0"))
        deployment_id = row.id
    with database.session() as session:
        send_command(session, ctx, ALICE, deployment_id, Command.ABORT)
    assert [asked["action"] for asked in gate.asked] == ["create_release", "deploy", "abort"]
    for asked in gate.asked:
        jsonschema.Draft202012Validator(SCHEMA).validate(asked)
    abort = gate.asked[-1]
    assert abort["deployment"]["requested_by"] == "alice"
    assert abort["history"][0]["status"] == "awaiting_approval"
    assert abort["time"]["hour"] == 16 and abort["time"]["timezone"] == "Europe/Paris"
    assert abort["principal"] == {"id": "alice", "roles": ["admin"], "scopes": {}}


def test_an_abort_does_not_need_the_repository(
    database: Database, context: DeployContext, tmp_path: Path
) -> None:
    with database.session() as session:
        create_release(session, context, ALICE, "shop", "1.0.0")
    with database.session() as session:
        row = start_deployment(session, context, ALICE, DeployRequest("shop", "prod", "1.0.0"))
        deployment_id = row.id
    shutil.rmtree(tmp_path / "shop")
    refusing = replace(context, policy=Gate([NO_ABORT]))
    with database.session() as session, pytest.raises(PolicyDeniedError, match="no aborts"):
        send_command(session, refusing, ALICE, deployment_id, Command.ABORT)
    with database.session() as session:
        send_command(
            session, replace(context, policy=Gate([ALLOW])), ALICE, deployment_id, Command.ABORT
        )


def test_a_release_without_a_local_repository_asks_the_operators_policies(
    database: Database, context: DeployContext
) -> None:
    with database.session() as session:
        create_service(session, "built-elsewhere", "", "", [EnvironmentDraft("prod")], NOW)
    no_releases = operator(
        "package code\n\nimport rego.v1\n\n"
        'deny contains "releases come from CI" if input.action == "create_release"\n'
    )
    gate = Recording([no_releases])
    with (
        database.session() as session,
        pytest.raises(PolicyDeniedError, match="releases come from CI"),
    ):
        create_release(session, replace(context, policy=gate), ALICE, "built-elsewhere", "2.0")
    [asked] = gate.asked
    jsonschema.Draft202012Validator(SCHEMA).validate(asked)
    assert asked["environment"] is None and asked["release"]["version"] == "2.0"
