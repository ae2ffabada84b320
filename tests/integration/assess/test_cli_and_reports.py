"""`codectl assess` end to end: outputs, exit codes, schemas, and the generated docs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from code_engine.assess import SCHEMA_VERSION, assess_repository, report_to_dict
from code_engine.assess.model import Category
from code_engine.assess.render.markdown import render_markdown
from code_engine.assess.render.sarif import report_to_sarif
from code_engine.cli import assess_cmd
from code_engine.errors import CheckFailedError, UserError

Builder = Callable[..., Path]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[3]


def _schema(name: str) -> Any:
    return json.loads(resources.files("code_engine.assess").joinpath("schemas", name).read_text())


def _app() -> typer.Typer:
    app = typer.Typer()
    assess_cmd.register(app)

    @app.callback()
    def main() -> None:
        """Test application."""

    return app


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(_app(), ["assess", *args])


@pytest.fixture
def failing_repo(build_repo: Builder, level3: dict[str, str]) -> Path:
    files = {k: v for k, v in level3.items() if k != "docs/dr/drills/2026-10-15.md"}
    files["Dockerfile"] = files["Dockerfile"].replace("USER 65532", "USER root")
    return build_repo(files, signed=False)


def test_json_output_matches_the_documented_schema(failing_repo: Path) -> None:
    result = _invoke(str(failing_repo), "--output", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, _schema("assess-report-2.json"))
    assert data["schema_version"] == SCHEMA_VERSION
    failing = [
        c["id"] for cat in data["categories"] for c in cat["checks"] if c["status"] == "fail"
    ]
    assert sorted(failing) == ["ctr.non-root", "dr.drill", "scm.signed-commits"]
    assert data["level"] == 1


def test_sarif_validates_against_the_sarif_schema(failing_repo: Path) -> None:
    result = _invoke(str(failing_repo), "--output", "sarif")
    assert result.exit_code == 0, result.output
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, _schema("sarif-2.1.0.json"))
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"ctr.non-root", "dr.drill", "scm.signed-commits"}
    for result_ in run["results"]:
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"]
        for location in result_.get("locations", []):
            assert (failing_repo / location["physicalLocation"]["artifactLocation"]["uri"]).exists()
    assert "locations" not in by_rule["scm.signed-commits"]
    assert (
        by_rule["ctr.non-root"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "Dockerfile"
    )


def test_markdown_lists_failing_checks_with_fixes(failing_repo: Path) -> None:
    result = _invoke(str(failing_repo), "--output", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("## DevOps maturity: Level 1 / 3")
    assert "**`ctr.non-root`**" in text and "**Fix:**" in text
    assert "<details><summary>Passing checks" in text


def test_table_output_groups_by_category_failing_first(failing_repo: Path) -> None:
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "200"}).invoke(
        _app(), ["assess", str(failing_repo)]
    )
    assert result.exit_code == 0
    out = result.stdout
    assert "Level 1/3" in out
    containers = out.index("Containers")
    assert out.index("ctr.non-root", containers) < out.index("ctr.dockerfile", containers)


def test_fail_under_raises_check_failed(failing_repo: Path) -> None:
    result = _invoke(str(failing_repo), "--fail-under", "2", "--output", "json")
    assert isinstance(result.exception, CheckFailedError)
    assert result.exception.exit_code == 1
    assert _invoke(str(failing_repo), "--fail-under", "1", "-o", "json").exit_code == 0


def test_category_filter(failing_repo: Path) -> None:
    result = _invoke(str(failing_repo), "--category", "ctr", "--category", "security", "-o", "json")
    data = json.loads(result.stdout)
    assert [c["id"] for c in data["categories"]] == ["containers", "security"]
    assert data["level"] == 1


def test_unknown_category_is_a_user_error(failing_repo: Path) -> None:
    result = _invoke(str(failing_repo), "--category", "nope")
    assert isinstance(result.exception, UserError)
    assert "nope" in str(result.exception)


def test_not_a_repository_is_a_user_error(tmp_path: Path) -> None:
    result = _invoke(str(tmp_path))
    assert isinstance(result.exception, UserError)
    assert result.exception.exit_code == 2
    assert "not a git repository" in str(result.exception)
    missing = _invoke(str(tmp_path / "missing"))
    assert isinstance(missing.exception, UserError)


def test_unreadable_file_is_a_finding_naming_it(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    repo = build_repo(level3)
    (repo / ".pre-commit-config.yaml").unlink()
    (repo / ".pre-commit-config.yaml").symlink_to("does-not-exist.yaml")
    report = assess_repository(repo, categories=[Category.DEVELOPMENT_ENVIRONMENT])
    assert [(f.file, f.note) for f in report.findings] == [
        (".pre-commit-config.yaml", "broken symbolic link; not read")
    ]


def test_errors_reach_the_cli_boundary_as_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from code_engine.cli import main

    application = typer.Typer(pretty_exceptions_enable=False)
    assess_cmd.register(application)
    monkeypatch.setattr(main, "app", application)
    monkeypatch.setattr(main, "_register", lambda: None)
    with pytest.raises(SystemExit) as exited:
        main.run([str(tmp_path)])  # a one-command application runs it directly
    assert exited.value.code == 2
    assert "not a git repository" in capsys.readouterr().err


def test_report_to_dict_is_json_and_stable(failing_repo: Path) -> None:
    report = assess_repository(failing_repo, clock=lambda: NOW)
    data = report_to_dict(report)
    assert json.loads(json.dumps(data)) == data
    assert data["generated_at"] == "2026-11-01T12:00:00+00:00"
    assert data["summary"] == {"passed": 58, "failed": 3, "not_applicable": 2, "unknown": 0}
    assert render_markdown(report) == render_markdown(report)
    assert report_to_sarif(report)["version"] == "2.1.0"


def test_drill_history_from_code_counts(failing_repo: Path) -> None:
    report = assess_repository(failing_repo, clock=lambda: NOW, drills=[NOW])
    assert "dr.drill" not in report.failing_ids


def test_generated_docs_are_up_to_date() -> None:
    from code_engine.assess.docs import DOC_PATH, render_docs

    committed = (REPO_ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert committed == render_docs(), "regenerate: python -m code_engine.assess.docs"


def test_every_check_is_documented() -> None:
    from code_engine.assess.docs import DOC_PATH
    from code_engine.assess.registry import CHECKS

    text = (REPO_ROOT / DOC_PATH).read_text(encoding="utf-8")
    for check in CHECKS:
        assert check.why and check.fix and check.title, check.id
        assert f"### `{check.id}` — level {check.level}" in text
