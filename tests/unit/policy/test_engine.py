"""The Rego engine on regopy: deny messages, fail-closed errors with their policy and line,
load errors with file:line, and evaluation bounded in time."""

from __future__ import annotations

import pytest

from code_engine.policy.model import PolicyLoadError, PolicySet, Source
from code_engine.policy.rego import Engine, compile_set

HEADER = "package code.t\n\nimport rego.v1\n\n"


def policy(body: str, query: str = "data.code.t.deny", name: str = "t.rego") -> PolicySet:
    return PolicySet("policies/", query, (Source(name, HEADER + body),))


def problems(body: str, query: str = "data.code.t.deny") -> list[str]:
    with pytest.raises(PolicyLoadError) as caught:
        compile_set(policy(body, query))
    return [problem.render() for problem in caught.value.problems]


DENY_BIG = 'deny contains msg if {\n\tinput.n > 1\n\tmsg := sprintf("n is %v", [input.n])\n}\n'


def test_deny_messages_refuse_and_none_allows() -> None:
    engine = Engine(probe=False)
    assert engine.evaluate(policy(DENY_BIG), {"n": 2}).messages == ("n is 2",)
    allowed = engine.evaluate(policy(DENY_BIG), {"n": 0})
    assert allowed.messages == () and allowed.error == ""


def test_a_set_is_compiled_once_per_content() -> None:
    engine = Engine(probe=False)
    assert engine.compiled(policy(DENY_BIG)) is engine.compiled(policy(DENY_BIG))
    assert engine.compiled(policy(DENY_BIG)) is not engine.compiled(policy(DENY_BIG + "\n"))


def test_a_syntax_error_names_file_line_and_column() -> None:
    assert problems("deny contains msg if {\n\tmsg :=\n}\n") == [
        "t.rego:6:6: Invalid assignment operator"
    ]


def test_v0_rule_syntax_is_refused_with_its_line() -> None:
    assert problems('deny[msg] {\n\tmsg := "x"\n}\n') == [
        "t.rego:5: Rego v0 rule syntax; write `name contains x if {` or `name if {`"
    ]


def test_an_unknown_function_is_refused_at_load() -> None:
    assert problems("deny contains msg if {\n\tmsg := nosuch.func(input)\n}\n") == [
        "t.rego:6:9: unknown function nosuch.func"
    ]


def test_a_query_naming_no_rule_is_refused() -> None:
    assert problems(DENY_BIG, "data.code.t.denied") == [
        "t.rego: no rule data.code.t.denied in policies/"
    ]


def test_a_conflict_fails_closed_naming_the_policy_and_query() -> None:
    body = (
        'owner := "a"\n\nowner := input.who\n\ndeny contains msg if {\n\tmsg := owner\n\tfalse\n}\n'
    )
    verdict = Engine(probe=False).evaluate(policy(body), {"who": "b"})
    assert verdict.error.startswith("policies/: data.code.t.deny: ")


def test_a_failing_builtin_fails_closed() -> None:
    body = 'deny contains msg if {\n\tx := 1 / input.zero\n\tmsg := sprintf("%v", [x])\n}\n'
    verdict = Engine(probe=False).evaluate(policy(body), {"zero": 0})
    assert verdict.error
    assert "data.code.t.deny" in verdict.error


def test_an_object_result_fails_closed() -> None:
    verdict = Engine(probe=False).evaluate(policy('deny := {"a": 1}\n'), {})
    assert "expected a set of strings" in verdict.error


def test_a_slow_policy_times_out_and_refuses() -> None:
    body = (
        "deny contains msg if {\n\tcount([x | some x in numbers.range(1, input.n)]) < 0\n"
        '\tmsg := "never"\n}\n'
    )
    engine = Engine(timeout_seconds=0.05, probe=False)
    assert engine.evaluate(policy(body), {"n": 1}).error == ""
    assert engine.evaluate(policy(body), {"n": 5_000_000}).error == (
        "policies/: timed out after 0.05s"
    )


def test_a_set_that_does_not_load_refuses_at_decision_time_with_file_and_line() -> None:
    broken = policy("deny contains msg if {\n\tmsg := nosuch.func(input)\n}\n")
    other = PolicySet("ops/", "data.code.t.deny", (Source("ops.rego", HEADER + DENY_BIG),))
    failed, denied = Engine(probe=False).evaluate_all([broken, other], {"n": 5})
    assert failed.error == "policies/: t.rego:6:9: unknown function nosuch.func"
    assert (denied.policy, denied.messages) == ("ops/", ("n is 5",))
