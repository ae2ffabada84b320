"""CI evidence follows what a workflow really runs, however it is laid out: working
directories, called workflows, local composite actions, Make variables, tox, nox and
package.json scripts. One repository per case, with the expected verdict per check and the
file and line the evidence points at (the line that runs the tool)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.assess.conftest import NOW
from tests.support.git import git

from code_engine.assess import Status, assess_repository
from code_engine.assess.model import Category, CheckResult

CI = ".github/workflows/ci.yml"
HEAD = "on:\n  push:\n    branches: [main]\n  pull_request:\n"


def workflow(steps: str, job: str = "", top: str = "") -> str:
    return (
        f"{HEAD}{top}jobs:\n  checks:\n    runs-on: ubuntu-latest\n{job}"
        f"    steps:\n      - uses: actions/checkout@v4\n{steps}"
    )


MAKEFILE = "PY ?= python\nPYTEST = $(PY) -m pytest\n\ntest:\n\t$(PYTEST) --cov tests\n"
SCRIPT = "#!/bin/sh\nset -eu\npytest --cov\n"
TOX = "[tox]\nenvlist = py\n\n[testenv]\ndeps = pytest\ncommands =\n    pytest --cov {posargs}\n"
TOX_LINT = "[testenv]\ncommands = pytest\n\n[testenv:lint]\ncommands = ruff check .\n"
NOX = (
    "import nox\n\n\n@nox.session\ndef lint(session):\n    session.run('ruff', 'check')\n\n\n"
    "@nox.session(name='tests')\ndef run_tests(session):\n    session.install('pytest')\n"
    "    session.run('pytest', '--cov'{extra})\n"
)
ACTION = (
    "name: test\nruns:\n  using: {using}\n  steps:\n    - shell: bash\n"
    "      run: |\n        pip install .\n        pytest --cov\n"
)
CALLED = (
    "on: workflow_call\njobs:\n  sast:\n    runs-on: ubuntu-latest\n{condition}"
    "    steps:\n      - run: bandit -r src\n      - run: pytest\n"
)
PACKAGE = '{\n  "name": "web",\n  "scripts": {\n    "test": "vitest run --coverage"\n  }\n}\n'

GITLAB = (
    "stages: [test]\n\nlint:\n  script:\n    - ruff check .\n\ntests:\n  script:\n"
    "    - pip install .\n    - make test\n\nsast:\n  script: bandit -r src\n"
)
GITLAB_UNIT = "unit:\n{extra}  script:\n    - pytest\n"

# case -> (files, {check: (status, "file:line" of the evidence or None)})
CASES: dict[str, tuple[dict[str, str], dict[str, tuple[Status, str | None]]]] = {
    "step working-directory, Make variables": (
        {
            CI: workflow("      - working-directory: backend\n        run: make test\n"),
            "backend/Makefile": MAKEFILE,
        },
        {
            "ci.tests": (Status.PASS, "backend/Makefile:5"),
            "ci.coverage": (Status.PASS, "backend/Makefile:5"),
        },
    ),
    "the same Makefile, no working-directory": (
        {CI: workflow("      - run: make test\n"), "backend/Makefile": MAKEFILE},
        {"ci.tests": (Status.FAIL, None)},
    ),
    "cd before make": (
        {
            CI: workflow("      - run: |\n          cd backend\n          make test\n"),
            "backend/Makefile": MAKEFILE,
        },
        {"ci.tests": (Status.PASS, "backend/Makefile:5")},
    ),
    "cd && make in GitLab CI": (
        {
            ".gitlab-ci.yml": "unit:\n  script:\n    - cd backend && make test\n",
            "backend/Makefile": MAKEFILE,
        },
        {"ci.tests": (Status.PASS, "backend/Makefile:5")},
    ),
    "make -C": (
        {CI: workflow("      - run: make -C backend test\n"), "backend/Makefile": MAKEFILE},
        {"ci.tests": (Status.PASS, "backend/Makefile:5")},
    ),
    "job defaults.run and a script": (
        {
            CI: workflow(
                "      - run: ./scripts/test.sh\n",
                job="    defaults:\n      run:\n        working-directory: service\n",
            ),
            "service/scripts/test.sh": SCRIPT,
        },
        {"ci.tests": (Status.PASS, "service/scripts/test.sh:3")},
    ),
    "workflow defaults.run": (
        {
            CI: workflow(
                "      - run: bash scripts/test.sh\n",
                top="defaults:\n  run:\n    working-directory: service\n",
            ),
            "service/scripts/test.sh": SCRIPT,
        },
        {"ci.tests": (Status.PASS, "service/scripts/test.sh:3")},
    ),
    "reusable workflow": (
        {
            CI: f"{HEAD}jobs:\n  checks:\n    uses: ./.github/workflows/checks.yml\n",
            ".github/workflows/checks.yml": CALLED.format(condition=""),
        },
        {
            "ci.sast": (Status.PASS, ".github/workflows/checks.yml:6"),
            "ci.tests": (Status.PASS, ".github/workflows/checks.yml:7"),
        },
    ),
    "reusable workflow whose job never runs": (
        {
            CI: f"{HEAD}jobs:\n  checks:\n    uses: ./.github/workflows/checks.yml\n",
            ".github/workflows/checks.yml": CALLED.format(condition="    if: false\n"),
        },
        {"ci.sast": (Status.FAIL, None), "ci.tests": (Status.FAIL, None)},
    ),
    "local composite action": (
        {
            CI: workflow("      - uses: ./.github/actions/test\n"),
            ".github/actions/test/action.yml": ACTION.format(using="composite"),
        },
        {"ci.tests": (Status.PASS, ".github/actions/test/action.yml:8")},
    ),
    "local action that is not composite": (
        {
            CI: workflow("      - uses: ./.github/actions/test\n"),
            ".github/actions/test/action.yml": ACTION.format(using="node20"),
        },
        {"ci.tests": (Status.FAIL, None)},
    ),
    "tox default environments": (
        {CI: workflow("      - run: tox\n"), "tox.ini": TOX},
        {
            "ci.tests": (Status.PASS, "tox.ini:7"),
            "ci.coverage": (Status.PASS, "tox.ini:7"),
        },
    ),
    "tox -e lint runs no tests": (
        {CI: workflow("      - run: tox -e lint\n"), "tox.ini": TOX_LINT},
        {"ci.tests": (Status.FAIL, None)},
    ),
    "tox command whose failure is ignored": (
        {CI: workflow("      - run: tox\n"), "tox.ini": "[testenv]\ncommands = - pytest\n"},
        {"ci.tests": (Status.FAIL, None)},
    ),
    "tox without a configuration": (
        {CI: workflow("      - run: tox -e py\n")},
        {"ci.tests": (Status.FAIL, None)},
    ),
    "nox session": (
        {CI: workflow("      - run: nox -s tests\n"), "noxfile.py": NOX.format(extra="")},
        {"ci.tests": (Status.PASS, "noxfile.py:12")},
    ),
    "nox session that accepts failure": (
        {
            CI: workflow("      - run: nox -s tests\n"),
            "noxfile.py": NOX.format(extra=", success_codes=[0, 1]"),
        },
        {"ci.tests": (Status.FAIL, None)},
    ),
    "package.json script": (
        {
            CI: workflow("      - working-directory: web\n        run: npm test\n"),
            "web/package.json": PACKAGE,
        },
        {
            "ci.tests": (Status.PASS, "web/package.json:4"),
            "ci.coverage": (Status.PASS, "web/package.json:4"),
        },
    ),
    "gitlab pipeline": (
        {".gitlab-ci.yml": GITLAB, "Makefile": MAKEFILE},
        {
            "ci.workflow": (Status.PASS, ".gitlab-ci.yml:1"),
            "ci.triggers": (Status.PASS, None),
            "ci.tests": (Status.PASS, "Makefile:5"),
            "ci.sast": (Status.PASS, ".gitlab-ci.yml:13"),
        },
    ),
    "gitlab job allowed to fail": (
        {".gitlab-ci.yml": GITLAB_UNIT.format(extra="  allow_failure: true\n")},
        {"ci.tests": (Status.FAIL, None)},
    ),
    "gitlab manual job": (
        {".gitlab-ci.yml": GITLAB_UNIT.format(extra="  when: manual\n")},
        {"ci.tests": (Status.FAIL, None)},
    ),
    "gitlab pipeline that never runs": (
        {
            ".gitlab-ci.yml": "workflow:\n  rules:\n    - when: never\n"
            + GITLAB_UNIT.format(extra="")
        },
        {"ci.workflow": (Status.FAIL, None), "ci.tests": (Status.FAIL, None)},
    ),
    "gitlab template through extends": (
        {".gitlab-ci.yml": ".tests:\n  script:\n    - pytest\n\nunit:\n  extends: .tests\n"},
        {"ci.tests": (Status.PASS, ".gitlab-ci.yml:3")},
    ),
    "gitlab local include": (
        {
            ".gitlab-ci.yml": "include:\n  - local: ci/tests.yml\n",
            "ci/tests.yml": GITLAB_UNIT.format(extra=""),
        },
        {"ci.tests": (Status.PASS, "ci/tests.yml:3")},
    ),
    "go test": (
        {CI: workflow("      - run: go test -coverprofile=c.out ./...\n")},
        {"ci.tests": (Status.PASS, f"{CI}:10"), "ci.coverage": (Status.PASS, f"{CI}:10")},
    ),
}


def build(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-gpg-sign", "-m", "feat: first")
    return root


def results(root: Path) -> dict[str, CheckResult]:
    report = assess_repository(
        root, categories=[Category.CONTINUOUS_INTEGRATION], clock=lambda: NOW
    )
    return {r.id: r for r in report.results}


@pytest.mark.parametrize("case", CASES)
def test_ci_evidence_follows_what_runs(tmp_path: Path, case: str) -> None:
    files, expected = CASES[case]
    found = results(build(tmp_path / "repo", files))
    for check, (status, where) in expected.items():
        result = found[check]
        assert result.status is status, (case, check, result)
        if where is not None:
            first = result.evidence[0]
            assert f"{first.file}:{first.line}" == where, (case, check, result.evidence)


def test_a_deep_make_chain_and_many_jobs_do_not_exhaust_the_assessor(tmp_path: Path) -> None:
    jobs = "".join(f"  j{i}:\n    steps:\n      - run: make t0 && make t0\n" for i in range(500))
    chain = "".join(f"t{i}: t{i + 1} t{i + 2}\n\tpytest -k {i}\n" for i in range(3000))
    root = build(tmp_path / "repo", {CI: f"{HEAD}jobs:\n{jobs}", "Makefile": chain})
    found = results(root)
    assert found["ci.tests"].status is Status.PASS
    assert found["ci.tests"].evidence[0].file == "Makefile"
