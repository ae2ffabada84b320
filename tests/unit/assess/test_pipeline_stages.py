"""`codectl ci --stage S` counts as a CI job of kind S; a bare `codectl ci` as every kind."""

from __future__ import annotations

import pytest

from code_engine.assess.tools import JOB_KINDS, TESTS


@pytest.mark.parametrize(
    ("command", "kinds"),
    [
        (".venv/bin/codectl ci --stage test", {"test"}),
        ("codectl ci --stage lint --stage security", {"lint", "security"}),
        ("codectl ci --stage=build", {"build"}),
        ("codectl ci", {"lint", "test", "security", "build"}),
        ("codectl ci -o json --jobs 2", {"lint", "test", "security", "build"}),
        ("codectl ci --step dist", set()),
        ("codectl ci github", set()),
    ],
)
def test_codectl_ci_counts_as_the_jobs_of_its_stages(command: str, kinds: set[str]) -> None:
    assert {kind for kind, pattern in JOB_KINDS.items() if pattern.search(command)} == kinds
    assert bool(TESTS.search(command)) == ("test" in kinds)
