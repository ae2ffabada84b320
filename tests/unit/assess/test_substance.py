"""Which shell lines, hooks, owners and Rego files do something."""

from __future__ import annotations

from code_engine.assess import substance


def test_live_lines_drop_no_ops_and_ignored_failures() -> None:
    text = "# lint\necho pytest\npytest -q\nruff check || true\nFOO=1 mypy src\nset +e\nbandit\n"
    assert list(substance.live_lines(text, 10)) == [(12, "pytest -q"), (14, "FOO=1 mypy src")]


def test_quoted_tool_names_are_blanked() -> None:
    assert substance.live_command("python -c 'import pytest'") == "python -c ''"
    assert substance.live_command("echo done && pytest") == "pytest"
    assert substance.live_command("-pytest") is None


def test_triggers_of_the_default_branch() -> None:
    assert substance.runs_on_default_branch("push")
    assert substance.runs_on_default_branch({"push": {"branches": ["ma*"]}})
    assert not substance.runs_on_default_branch({"push": {"branches": ["release/**"]}})
    assert not substance.runs_on_default_branch({"push": {"branches-ignore": ["main", "master"]}})
    assert not substance.runs_on_default_branch({"push": {"tags": ["v*"]}})
    assert not substance.runs_on_default_branch({"schedule": [{"cron": "0 0 * * *"}]})


def test_disabled_jobs_are_transitive() -> None:
    jobs = {"a": {"if": "${{ false }}"}, "b": {"needs": "a"}, "c": {"needs": ["b"]}, "d": {}}
    assert substance.disabled_jobs(jobs) == {"a", "b", "c"}


def test_owners_rules_and_hooks() -> None:
    assert substance.placeholder_owner("@org/team")
    assert not substance.placeholder_owner("@acme/platform")
    assert substance.rego_rules(
        "package p\nimport rego.v1\n\ndeny contains m if {\n  true\n}\n"
    ) == [4]
    assert substance.rego_rules("package p\n# nothing\n") == []
    assert not substance.hook_runs({"id": "x", "entry": ":"})
    assert substance.hook_runs({"id": "ruff"})
    assert not substance.script_does_something("#!/bin/sh\nset -eu\nexit 0\n")
