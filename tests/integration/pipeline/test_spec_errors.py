"""A pipeline that cannot run as written: a clear message naming the step, the file and line
of code.yaml and the reason, exit code 2, and nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.pipeline_repo import ci, code_yaml, make_repo

CASES = [
    (
        "missing-tool",
        """\
        defaults: false
        steps:
          - name: lint
            stage: lint
            run: [no-such-linter, src]
        """,
        "code.yaml:13:13: pipeline.steps.0.run.0: step 'lint': tool 'no-such-linter' not found",
    ),
    (
        "unknown-need",
        """\
        defaults: false
        steps:
          - name: lint
            stage: lint
            run: [ruff, check]
            needs: [format]
        """,
        "code.yaml:14:15: pipeline.steps.0.needs.0: step 'lint': needs unknown step 'format'",
    ),
    (
        "cycle",
        """\
        defaults: false
        steps:
          - name: one
            stage: lint
            run: [ruff, check]
            needs: [two]
          - name: two
            stage: lint
            run: [ruff, check]
            needs: [one]
        """,
        "pipeline.steps.0.needs: step 'one': dependency cycle: one -> two -> one",
    ),
    (
        "unknown-default",
        """\
        skip: [pylint]
        """,
        "code.yaml:9:10: pipeline.skip.0: step 'pylint': is not a default step",
    ),
]


@pytest.mark.parametrize(("pipeline", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_pipeline_that_cannot_run_is_refused_with_its_location(
    tmp_path: Path, pipeline: str, message: str
) -> None:
    repo = make_repo(tmp_path / "shop", yaml=code_yaml("", pipeline))

    code, report, stderr = ci(repo)

    assert code == 2, stderr
    assert report is None
    assert message in stderr, stderr
    assert "Traceback" not in stderr
    assert not (repo / "build" / "ci-cache" / "entries").exists()


def test_an_unknown_stage_or_step_is_bad_input(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")

    code, _, stderr = ci(repo, "--stage", "deploy")
    assert code == 2
    assert "'deploy': is not a stage (one of: lint, test, security, build)" in stderr

    code, _, stderr = ci(repo, "--step", "pylint")
    assert code == 2
    assert "'pylint': no such step" in stderr
