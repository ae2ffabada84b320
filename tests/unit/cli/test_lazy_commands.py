"""`codectl` loads a command's module only when it is asked for: `--help` and `validate`
start without the database layer, the HTTP client or a password hash, and the help table
says what each command's own help says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from code_engine.cli.commands import COMMANDS
from code_engine.cli.lazy import load

HEAVY = ("sqlalchemy", "alembic", "argon2", "httpx", "code_engine.store", "code_engine.auth")
PROBE = """
import json, sys
from code_engine.cli.main import run
try:
    run(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
SPEC = """\
service: hello
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: "{python} -m http.server {port}"
"""


def modules_after(tmp_path: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stderr.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    modules = modules_after(tmp_path, "--help")
    assert heavy(modules) == []
    assert not [m for m in modules if m.endswith("_cmd")]
    assert "pydantic" not in modules and "rich" not in modules


def test_validate_imports_only_the_spec(tmp_path: Path) -> None:
    (tmp_path / "code.yaml").write_text(SPEC, encoding="utf-8")
    modules = modules_after(tmp_path, "validate")
    assert heavy(modules) == []
    assert [m for m in modules if m.endswith("_cmd")] == ["code_engine.cli.spec_cmd"]


def test_a_command_loads_its_module_when_run(capsys: pytest.CaptureFixture[str]) -> None:
    from code_engine.cli.main import run

    with pytest.raises(SystemExit) as exited:
        run(["dora", "--help"])
    assert exited.value.code == 0
    assert "import-git" in capsys.readouterr().out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from code_engine.cli.main import run

    with pytest.raises(SystemExit) as exited:
        run(["no-such-command"])
    assert exited.value.code == 2
    assert "No such command" in capsys.readouterr().err


@pytest.mark.parametrize("module", sorted({entry.module for entry in COMMANDS}))
def test_the_table_lists_every_command_with_its_own_help(module: str) -> None:
    listed = {entry.name: entry.help for entry in COMMANDS if entry.module == module}
    real = {name: cmd.get_short_help_str(10_000) for name, cmd in load(module).items()}
    assert listed == real


def test_names_are_unique() -> None:
    names = [entry.name for entry in COMMANDS]
    assert len(names) == len(set(names))


def test_every_command_is_in_the_reference_tree() -> None:
    from code_engine.cli.main import _register, app

    _register()
    group = typer.main.get_group(app)
    assert set(group.commands) == {entry.name for entry in COMMANDS}
