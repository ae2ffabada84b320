"""New policy content is compiled in a child process first: a crash of the Rego engine
refuses the action instead of killing the server."""

from __future__ import annotations

import pytest

from code_engine.policy import probe
from code_engine.policy.model import PolicySet, Source
from code_engine.policy.rego import Engine

RULE = 'package code.t\n\nimport rego.v1\n\ndeny contains "x" if input.n > 1\n'


def policy(text: str) -> PolicySet:
    return PolicySet("policies/", "data.code.t.deny", (Source("t.rego", text),))


def test_a_sound_set_compiles_in_the_child() -> None:
    assert probe.crashes(policy(RULE)) == ""


def test_a_crash_in_the_child_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "crashes", lambda _policy: "the Rego engine crashed (signal 11)")
    verdict = Engine().evaluate(policy(RULE + "# new content\n"), {"n": 5})
    assert verdict.error == "policies/: t.rego: the Rego engine crashed (signal 11)"
