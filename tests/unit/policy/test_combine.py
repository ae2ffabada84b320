"""Which policy sets share an interpreter: only sets that cannot see each other's rules."""

from __future__ import annotations

from code_engine.policy.combine import apart, groups, packages, references
from code_engine.policy.model import PolicySet, Source


def rego(name: str, package: str, body: str = 'deny contains "x" if input.n > 1\n') -> PolicySet:
    text = f"package {package}\n\nimport rego.v1\n\n{body}"
    return PolicySet(name, f"data.{package}.deny", (Source(f"{name}.rego", text),))


def test_packages_and_the_data_paths_named() -> None:
    policy = rego(
        "a",
        "code.a",
        "import data.code.lib\n\n# data.code.comment\n"
        'deny contains "x" if data.code.other.on\n\nlabel := "data.code.string"\n',
    )
    assert packages(policy) == {("code", "a")}
    assert references(policy) == {("code", "lib"), ("code", "other", "on")}
    assert references(rego("b", "code.b", 'deny contains "x" if walk(data, [_, _])\n')) == {()}


def test_sets_in_packages_of_their_own_share_one_group() -> None:
    sets = [rego(name, f"code.{name}") for name in ("gate", "freeze", "ready", "eyes")]
    assert groups(sets) == [[0, 1, 2, 3]]


def test_sets_that_could_see_each_other_are_kept_apart() -> None:
    same = rego("a", "code"), rego("b", "code")
    inside = rego("a", "code"), rego("b", "code.b")
    reads = rego("a", "code.a", 'deny contains "x" if data.code.b.flag\n'), rego("b", "code.b")
    whole = rego("a", "code.a", 'deny contains "x" if count(data) > 0\n'), rego("b", "code.b")
    twice = rego("a", "code.a"), PolicySet("c", "data.code.c.deny", rego("a", "code.c").sources)
    for first, second in (same, inside, reads, whole, twice):
        assert not apart(first, second)
        assert groups([first, second]) == [[0], [1]]


def test_a_set_joins_the_first_group_it_fits() -> None:
    sets = [rego("a", "code"), rego("b", "code"), rego("c", "ops")]
    assert groups(sets) == [[0, 2], [1]]
