"""`codectl validate` and `codectl schema`, through Typer and through the real error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from code_engine.cli import main
from code_engine.cli.spec_cmd import register
from code_engine.errors import CodeError, InvalidFileError

ROOT = Path(__file__).resolve().parents[3]
VALID = """\
service: shop
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: run --port {port}
  - name: prod
    target: {kind: kubernetes, namespace: shop}
    protection: {requires_previous: true, approval: true, deployers: [admin]}
rollout:
  kind: canary
  steps: [{set_weight: 20}, {pause: {}}]
"""
KIND_ERROR = "code.yaml:6:13: environments.0.target.kind: " + (
    "'docker' is not a valid kind; expected one of: 'local', 'kubernetes'"
)


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")  # Rich tables wrap at 80 columns without a terminal


def invoke(app: typer.Typer, *args: str) -> tuple[int, Result]:
    """Run a command; a CodeError exits with its code, as the boundary of `codectl` does."""
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, CodeError):
        return result.exception.exit_code, result
    return result.exit_code, result


def write(text: str, name: str = "code.yaml") -> None:
    Path(name).write_text(text, encoding="utf-8")


def test_valid_file_prints_a_summary(app: typer.Typer) -> None:
    write(VALID)
    code, result = invoke(app, "validate")
    assert code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "code.yaml: valid spec of service shop"
    table = "\n".join(lines[1:])
    assert "local, 1 instance" in table
    assert "canary 20%, 100%" in table
    assert "requires previous; approval; requires pipeline; deployers: admin" in table
    assert result.stderr == ""


def test_valid_file_as_json(app: typer.Typer) -> None:
    write(VALID, "spec.yaml")
    code, result = invoke(app, "validate", "spec.yaml", "--output", "json")
    assert code == 0
    summary = json.loads(result.stdout)
    assert (summary["file"], summary["valid"], summary["service"]) == ("spec.yaml", True, "shop")
    assert summary["environments"][0] == {
        "environment": "dev",
        "target": "local, 1 instance",
        "strategy": "canary 20%, 100%",
        "protection": "-",
    }
    assert summary["environments"][1]["target"] == "kubernetes shop"


def test_invalid_file_prints_one_line_per_problem(app: typer.Typer) -> None:
    write(VALID.replace("kind: local", "kind: docker") + "owner: me\n")
    code, result = invoke(app, "validate")
    assert code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        KIND_ERROR,
        "code.yaml:14:1: owner: unknown field 'owner'; expected one of: service, repo, "
        "description, environments, rollout, slos, quality_gates, pipeline, backup, policies",
    ]
    assert isinstance(result.exception, InvalidFileError)
    assert str(result.exception) == "code.yaml is not valid: 2 problems"


def test_invalid_file_as_json(app: typer.Typer) -> None:
    write(VALID.replace("kind: local", "kind: docker"))
    code, result = invoke(app, "validate", "-o", "json")
    assert code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["problems"] == [
        {
            "file": "code.yaml",
            "line": 6,
            "column": 13,
            "field": "environments.0.target.kind",
            "message": "'docker' is not a valid kind; expected one of: 'local', 'kubernetes'",
        }
    ]


def test_missing_file_is_a_user_error(app: typer.Typer) -> None:
    code, result = invoke(app, "validate", "nowhere.yaml")
    assert code == 2
    assert str(result.exception) == "nowhere.yaml: no such file"


def test_schema_prints_json_schema(app: typer.Typer) -> None:
    code, result = invoke(app, "schema")
    assert code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "ServiceSpec" not in schema["$defs"]
    assert "Environment" in schema["$defs"]


def test_root_code_yaml_validates(app: typer.Typer) -> None:
    code, result = invoke(app, "validate", str(ROOT / "code.yaml"))
    assert code == 0, result.output
    assert "valid spec of service code-engine" in result.stdout


def codectl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Run through `codectl`'s own entry point and error boundary, with only these commands."""
    application = typer.Typer(pretty_exceptions_enable=False)
    register(application)
    monkeypatch.setattr(main, "app", application)
    monkeypatch.setattr(main, "_register", lambda: None)
    try:
        main.run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_boundary_prints_problems_then_one_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(VALID.replace("kind: local", "kind: docker"))
    code, out, err = codectl(monkeypatch, capsys, "validate")
    assert (code, out) == (2, "")
    assert err.splitlines() == [KIND_ERROR, "error: code.yaml is not valid: 1 problem"]


def test_boundary_keeps_brackets_in_file_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write("service: shop\n", "[draft].yaml")
    code, _, err = codectl(monkeypatch, capsys, "validate", "[draft].yaml")
    assert code == 2
    assert err.splitlines()[-1] == "error: [draft].yaml is not valid: 2 problems"


def test_boundary_success(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(VALID)
    code, out, err = codectl(monkeypatch, capsys, "validate")
    assert (code, err) == (0, "")
    assert out.startswith("code.yaml: valid spec of service shop\n")


def test_validate_refuses_a_billion_laughs_file_quickly(tmp_path: Path) -> None:
    """Through the real executable: exit 2 with file:line, in well under the time a hang takes."""
    import subprocess
    import sys

    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    (tmp_path / "code.yaml").write_text(bomb)
    result = subprocess.run(  # a hang (no limits) runs into `timeout`
        [sys.executable, "-m", "code_engine", "validate", "code.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "code.yaml:" in result.stderr + result.stdout
    assert "aliases expand to more than 100000 nodes" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
