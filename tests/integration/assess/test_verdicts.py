"""Not applicable and unknown: what does not apply does not lower the level; what cannot be
judged is never a pass, and every output format counts both."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from rich.console import Console
from tests.integration.assess.conftest import NOW, Builder

from code_engine.assess import assess_repository, report_to_dict
from code_engine.assess.history import validate_report
from code_engine.assess.model import Category, Report, Status
from code_engine.assess.render.markdown import render_markdown
from code_engine.assess.render.table import print_table

HISTORY = ("scm.conventional-commits", "scm.signed-commits", "scm.release-tags")


def _status(report: Report, check_id: str) -> Status:
    return next(r.status for r in report.results if r.id == check_id)


def test_no_container_makes_image_scanning_not_applicable(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    files = dict(level3)
    files.pop("Dockerfile")
    report = assess_repository(build_repo(files), clock=lambda: NOW)
    assert _status(report, "ctr.image-scan") is Status.NOT_APPLICABLE
    full = assess_repository(build_repo(level3), clock=lambda: NOW)
    assert _status(full, "ctr.image-scan") is Status.PASS


def test_a_repository_with_no_commits_is_unknown_not_passed(
    tmp_path: Path, level3: dict[str, str]
) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)  # noqa: S607
    for name, text in level3.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    report = assess_repository(repo, categories=[Category.SOURCE_CONTROL], clock=lambda: NOW)
    for check in HISTORY:
        assert _status(report, check) is Status.UNKNOWN, check
    # level 2 holds conventional-commits: unknown does not reach it
    assert report.categories[0].level == 1
    data = report_to_dict(report)
    assert data["summary"]["unknown"] == 3
    validate_report(data)


def test_a_shallow_clone_is_unknown_and_counted_everywhere(
    build_repo: Builder, level3: dict[str, str], tmp_path: Path
) -> None:
    origin = build_repo(level3)
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)],  # noqa: S607
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    )
    report = assess_repository(clone, clock=lambda: NOW)
    for check in ("scm.conventional-commits", "scm.signed-commits"):
        assert _status(report, check) is Status.UNKNOWN, check
    assert report.level < 3
    unknown = sum(1 for r in report.results if r.status is Status.UNKNOWN)
    assert report_to_dict(report)["summary"]["unknown"] == unknown
    assert f"{unknown} unknown" in render_markdown(report)
    console = Console(record=True, width=200)
    print_table(report, console)
    text = console.export_text()
    assert f"{unknown} unknown" in text and "? unknown" in text
    assert "shallow clone" in json.dumps(report_to_dict(report))
