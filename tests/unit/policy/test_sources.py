"""Where policies come from, and the load checks regopy does not make itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.errors import ConfigError, UserError
from code_engine.policy.lint import static_problems
from code_engine.policy.model import Source
from code_engine.policy.sources import from_directory, from_tree, parse_paths
from code_engine.spec import PolicyBundle


def test_operator_paths_with_and_without_query() -> None:
    assert parse_paths(" /etc/code/ops , ~/p.rego#data.team.deny,") == [
        (Path("/etc/code/ops"), "data.code.deny"),
        (Path("~/p.rego").expanduser(), "data.team.deny"),
    ]


def test_a_directory_bundle_leaves_tests_out(tmp_path: Path) -> None:
    (tmp_path / "a.rego").write_text("package a\n")
    (tmp_path / "a_test.rego").write_text("package a_test\n")
    policy = from_directory(tmp_path, "data.a.deny")
    assert [source.name for source in policy.sources] == [str(tmp_path / "a.rego")]


def test_a_missing_operator_path_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such policy file or directory"):
        from_directory(tmp_path / "nope", "data.a.deny")


def test_a_bundle_read_at_a_commit_is_labelled_with_it() -> None:
    tree = {"policies/gate.rego": "package gate\n", "policies/gate_test.rego": "package t\n"}
    bundle = PolicyBundle(path="policies/", query="data.gate.deny")
    policy = from_tree(bundle, lambda _path: sorted(tree), tree.get, "@abc")
    assert [source.name for source in policy.sources] == ["policies/gate.rego@abc"]
    with pytest.raises(UserError, match="holds no .rego policy file"):
        from_tree(bundle, lambda _path: [], tree.get, "@abc")


def test_calls_in_strings_and_comments_and_imported_functions_are_not_flagged() -> None:
    sources = (
        Source("lib.rego", "package lib\n\nimport rego.v1\n\ncheck(x) := x if true\n"),
        Source(
            "p.rego",
            "package p\n\nimport rego.v1\n\nimport data.lib\n\n"
            "# see nothing(here)\n"
            'deny contains msg if {\n\tlib.check(1)\n\tmsg := "f(x) is fine"\n}\n',
        ),
    )
    assert static_problems(sources) == []


def test_a_file_without_package_is_refused() -> None:
    [problem] = static_problems((Source("x.rego", "import rego.v1\n"),))
    assert problem.render() == "x.rego:1: no package declaration"


def test_spec_refuses_absolute_paths_and_odd_queries() -> None:
    with pytest.raises(ValueError, match="relative to the repository"):
        PolicyBundle(path="/etc/policies", query="data.a.deny")
    with pytest.raises(ValueError, match="is not a rule reference"):
        PolicyBundle(path="policies/", query="deny")
