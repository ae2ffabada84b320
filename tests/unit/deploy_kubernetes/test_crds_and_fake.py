"""CRD schemas read as the API server reads them, and the in-memory GitOps fake."""

from __future__ import annotations

import pytest

from code_engine.deploy.kubernetes.crds import strict
from code_engine.deploy.kubernetes.errors import GitOpsUnreachable, PushRaceLost
from code_engine.deploy.kubernetes.message import Author, DeployMessage
from code_engine.deploy.kubernetes.render import Rendered
from code_engine.testing import FakeGitOps

AUTHOR = Author("a", "a@example.test")


def test_strict_schemas_refuse_unknown_fields_where_the_api_server_would_prune() -> None:
    schema = {
        "type": "object",
        "properties": {
            "port": {
                "x-kubernetes-int-or-string": True,
                "anyOf": [{"type": "integer"}, {"type": "string"}],
            },
            "note": {"type": "string", "nullable": True},
            "free": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"a": {}},
            },
        },
    }
    assert strict(schema) == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "port": {"type": ["integer", "string"]},
            "note": {"type": ["string", "null"]},
            "free": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"a": {}},
            },
        },
    }


def rendered(text: str) -> Rendered:
    return Rendered("prod", "1", "shop:1", (), (), text)


def message(deployment: str) -> DeployMessage:
    return DeployMessage.deploy("shop", "prod", deployment, "1", "c")


def test_the_fake_publishes_reverts_and_diffs() -> None:
    fake = FakeGitOps()
    first = fake.publish("prod", lambda: rendered("a\n"), message("1"), AUTHOR)
    second = fake.publish("prod", lambda: rendered("b\n"), message("2"), AUTHOR)
    assert first.pushed and second.pushed and fake.head_text() == "b\n"
    assert not fake.publish("prod", lambda: rendered("b\n"), message("3"), AUTHOR).pushed
    fake.revert(second.commit, message("2"), AUTHOR)
    assert fake.head_text() == "a\n" and fake.commits[-1].reverts == second.commit
    assert "-a\n+c\n" in fake.diff("prod", rendered("c\n"))


def test_the_fake_loses_races_refuses_pushes_and_goes_away() -> None:
    racy = FakeGitOps(races=2)
    assert racy.publish("prod", lambda: rendered("a"), message("1"), AUTHOR).pushed
    assert racy.renders == 3
    with pytest.raises(PushRaceLost):
        FakeGitOps(races=3).publish("prod", lambda: rendered("a"), message("1"), AUTHOR)
    protected = FakeGitOps(protected=True).publish(
        "prod", lambda: rendered("a"), message("9"), AUTHOR
    )
    assert protected.branch == "code/deploy-9"
    with pytest.raises(GitOpsUnreachable):
        FakeGitOps(unreachable=True).diff("prod", rendered("a"))
