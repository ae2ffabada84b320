"""The default test steps: unit, integration and e2e apart where the repository separates them.

A repository separates its tests by registered pytest markers (`integration`, `e2e`)
or by directories (`tests/unit`, `tests/integration`, `tests/e2e`). Each kind then runs as its
own step with its own JUnit report and coverage data file (`COVERAGE_FILE`, which pytest-xdist's
workers inherit), and a `coverage` step combines the data into the one report the coverage gate
reads. Every test runs in exactly one step: the `test-unit` step takes whatever the others do
not (unmarked tests, tests outside the three directories). A repository with neither layout
keeps the one `pytest` step.
"""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path

from code_engine.pipeline.model import Step

REPORTS = "build/ci"
KINDS = ("unit", "integration", "e2e")
PYTHON = ("**/*.py", "pyproject.toml", "setup.cfg", "setup.py")
TEST_INPUTS = (*PYTHON, "pytest.ini", "tox.ini", "tests/**/*")
PYTEST = ("pytest", "-q", "-p", "no:cacheprovider")


def default_test_steps(repo: Path, source: tuple[str, ...]) -> list[Step]:
    """The test stage's default steps for the repository at `repo`."""
    cov = tuple(f"--cov={path}" for path in source)
    markers = registered_markers(repo)
    selections: dict[str, tuple[str, ...]]
    if any(kind in markers for kind in KINDS[1:]):
        others = [kind for kind in KINDS[1:] if kind in markers]
        selections = {"unit": ("-m", " and ".join(f"not {kind}" for kind in others))}
        selections |= {kind: ("-m", kind) for kind in others}
    elif any((repo / "tests" / kind).is_dir() for kind in KINDS[1:]):
        others = [kind for kind in KINDS[1:] if (repo / "tests" / kind).is_dir()]
        selections = {"unit": tuple(f"--ignore=tests/{kind}" for kind in others)}
        selections |= {kind: (f"tests/{kind}",) for kind in others}
    else:
        return [_single(cov)]
    steps = [_kind(kind, selection, cov) for kind, selection in selections.items()]
    return [*steps, *_coverage([step.name for step in steps], list(selections))]


def registered_markers(repo: Path) -> set[str]:
    """The markers the repository's pytest configuration registers (`name: description`)."""
    lines: list[str] = []
    try:
        data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
        options = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
        declared = options.get("markers", []) if isinstance(options, dict) else []
        lines += [str(line) for line in declared] if isinstance(declared, list) else []
    except (OSError, tomllib.TOMLDecodeError):
        pass
    for name, section in (("pytest.ini", "pytest"), ("tox.ini", "pytest"),
                          ("setup.cfg", "tool:pytest")):  # fmt: skip
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(repo / name, encoding="utf-8")
        except configparser.Error:
            continue
        if parser.has_option(section, "markers"):
            lines += parser.get(section, "markers").splitlines()
    return {line.split(":")[0].split("(")[0].strip() for line in lines if line.strip()}


def _single(cov: tuple[str, ...]) -> Step:
    return Step(
        "pytest",
        "test",
        (*PYTEST, f"--junitxml={REPORTS}/junit.xml", *cov,
         f"--cov-report=xml:{REPORTS}/coverage.xml"),
        inputs=TEST_INPUTS,
        outputs=(f"{REPORTS}/junit.xml", f"{REPORTS}/coverage.xml"),
        reports=(("junit", f"{REPORTS}/junit.xml"), ("coverage", f"{REPORTS}/coverage.xml")),
        tools=("coverage",),
    )  # fmt: skip


def coverage_data(kind: str) -> str:
    """The coverage data file of one kind of tests."""
    return f"{REPORTS}/coverage-data/{kind}.coverage"


def _kind(kind: str, selection: tuple[str, ...], cov: tuple[str, ...]) -> Step:
    junit = f"{REPORTS}/junit-{kind}.xml"
    return Step(
        f"test-{kind}",
        "test",
        # one kind's share of the coverage is no verdict: the combination's report is judged
        (*PYTEST, *selection, f"--junitxml={junit}", *cov, "--cov-report=", "--cov-fail-under=0"),
        inputs=TEST_INPUTS,
        outputs=(junit, coverage_data(kind)),
        reports=(("junit", junit),),
        tools=("coverage",),
        env=(("COVERAGE_FILE", coverage_data(kind)),),
    )


def _coverage(after: list[str], kinds: list[str]) -> list[Step]:
    """Combine the kinds' data (kept, so a replayed test step's data stays) into one report."""
    combined = f"{REPORTS}/coverage-data/combined.coverage"
    xml = f"{REPORTS}/coverage.xml"
    return [
        Step(
            "coverage-combine",
            "test",
            ("coverage", "combine", "--keep", f"--data-file={combined}",
             *(coverage_data(kind) for kind in kinds)),
            inputs=(),
            outputs=(combined,),
            after=tuple(after),
        ),
        Step(
            "coverage",
            "test",
            ("coverage", "xml", f"--data-file={combined}", "-o", xml),
            inputs=PYTHON,
            outputs=(xml,),
            reports=(("coverage", xml),),
            needs=("coverage-combine",),  # never a report of an earlier run's data
        ),
    ]  # fmt: skip
