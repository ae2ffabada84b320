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


def own(name: str, package: str, body: str) -> PolicySet:
    text = f"package {package}\n\nimport rego.v1\n\n{body}"
    return PolicySet(f"{name}/", f"data.{package}.deny", (Source(f"{name}.rego", text),))


def test_sets_of_one_package_each_share_an_interpreter_and_keep_their_own_verdicts() -> None:
    denies = own("a", "code.a", 'deny contains "a says no" if input.n > 1\n')
    fails = own("b", "code.b", 'deny contains msg if {\n\tmsg := sprintf("%v", [1 / input.n])\n}\n')
    allows = own("c", "code.c", 'deny contains "never" if input.n < 0\n')
    engine = Engine(probe=False)
    first, second, third = engine.evaluate_all([denies, fails, allows], {"n": 0})
    assert len(engine._cache) == 1  # noqa: SLF001 - one bundle for the three
    assert (first.policy, first.messages, first.error) == ("a/", (), "")
    assert second.policy == "b/" and second.error.startswith("b/: data.code.b.deny: ")
    assert (third.policy, third.messages, third.error) == ("c/", (), "")
    denied = engine.evaluate_all([denies, fails, allows], {"n": 2})
    assert [v.messages for v in denied] == [("a says no",), ("0.5",), ()]


def test_sets_of_one_package_are_not_merged() -> None:
    first = own("a", "code", 'deny contains "from a" if true\n')
    second = own("b", "code", 'deny contains "from b" if true\n')
    verdicts = Engine(probe=False).evaluate_all([first, second], {})
    assert [v.messages for v in verdicts] == [("from a",), ("from b",)]


def test_a_set_that_does_not_load_is_named_and_the_others_of_its_group_still_run() -> None:
    good = own("good", "code.good", 'deny contains "no" if input.n > 1\n')
    broken = own("broken", "code.broken", "deny contains msg if {\n\tmsg :=\n}\n")
    verdicts = Engine(probe=False).evaluate_all([good, broken], {"n": 2})
    assert verdicts[0].messages == ("no",)
    assert verdicts[1].error == "broken/: broken.rego:6:6: Invalid assignment operator"


def test_new_content_is_probed_once_per_group(monkeypatch: pytest.MonkeyPatch) -> None:
    from code_engine.policy import probe

    probed: list[object] = []
    monkeypatch.setattr(probe, "crashes", lambda sets: probed.append(sets) or "")
    sets = [own(name, f"code.{name}", 'deny contains "no" if input.n > 1\n') for name in "xyz"]
    engine = Engine()
    for _ in range(3):
        assert [v.messages for v in engine.evaluate_all(sets, {"n": 2})] == [("no",)] * 3
    assert probed == [tuple(sets)]


def test_a_group_that_crashes_the_probe_is_split_to_name_the_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from code_engine.policy import probe

    good = own("good", "code.good", 'deny contains "no" if input.n > 1\n')
    bad = own("bad", "code.bad", 'deny contains "crash" if input.n > 1\n')

    def crashes(sets: object) -> str:
        involved = sets if isinstance(sets, tuple) else (sets,)
        return "the Rego engine crashed (signal 11)" if bad in involved else ""

    monkeypatch.setattr(probe, "crashes", crashes)
    verdicts = Engine().evaluate_all([good, bad], {"n": 2})
    assert verdicts[0].messages == ("no",)
    assert verdicts[1].error == "bad/: bad.rego: the Rego engine crashed (signal 11)"


class Pool:
    """Stands in for the evaluation threads: counts the hand-overs."""

    def __init__(self, real: object) -> None:
        self.real, self.submitted = real, 0

    def submit(self, *args: object) -> object:
        self.submitted += 1
        return self.real.submit(*args)  # type: ignore[attr-defined]


def test_a_fast_group_runs_on_the_callers_thread_and_still_refuses_past_its_time() -> None:
    from code_engine.policy.rego import TRUSTED_AFTER

    body = (
        "deny contains msg if {\n\tcount([x | some x in numbers.range(1, input.n)]) < 0\n"
        '\tmsg := "never"\n}\n'
    )
    engine = Engine(timeout_seconds=0.2, probe=False)
    pool = Pool(engine._pool)  # noqa: SLF001
    engine._pool = pool  # type: ignore[assignment]  # noqa: SLF001
    for _ in range(TRUSTED_AFTER):
        assert engine.evaluate(policy(body), {"n": 1}).error == ""
    assert pool.submitted == TRUSTED_AFTER
    assert engine.evaluate(policy(body), {"n": 1}).error == ""
    assert pool.submitted == TRUSTED_AFTER  # trusted: no hand-over
    slow = engine.evaluate(policy(body), {"n": 200_000})
    assert pool.submitted == TRUSTED_AFTER
    assert slow.error == "policies/: timed out after 0.2s"  # refused once it is over
    assert engine.compiled(policy(body)).fast_runs == 0
    assert engine.evaluate(policy(body), {"n": 1}).error == ""
    assert pool.submitted == TRUSTED_AFTER + 1  # back on the evaluation thread
