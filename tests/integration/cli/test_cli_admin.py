"""`codectl` commands that act on the database directly, and the error boundary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from code_engine.cli.main import run
from code_engine.store.migrate import MIGRATIONS_DIR


def codectl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE_DATA_DIR", str(tmp_path / "data"))


def test_db_upgrade_and_current(capsys) -> None:
    code, out, _ = codectl(capsys, "db", "current")
    assert (code, out.strip()) == (0, "not migrated")
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    code, out, _ = codectl(capsys, "db", "upgrade")
    assert (code, out.strip()) == (0, f"database at revision {head}")
    assert codectl(capsys, "db", "current")[1].strip() == head


def test_users_and_clients(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE_NEW_USER_PASSWORD", "a strong password!")
    code, _, err = codectl(capsys, "users", "create", "alice", "--role", "deployer:staging")
    assert code == 0, err
    code, out, _ = codectl(capsys, "users", "list", "--output", "json")
    assert json.loads(out) == [
        {"name": "alice", "kind": "user", "disabled": False, "roles": "deployer:staging"}
    ]
    code, out, _ = codectl(capsys, "clients", "create", "ci", "-r", "developer", "-o", "json")
    creds = json.loads(out)
    assert creds["client_id"] == "ci" and len(creds["client_secret"]) > 30
    assert codectl(capsys, "users", "grant", "ci", "deployer:prod")[0] == 0
    code, out, _ = codectl(capsys, "clients", "list", "-o", "json")
    assert json.loads(out)[0]["roles"] == "deployer:prod developer"
    assert codectl(capsys, "users", "revoke", "ci", "deployer:prod")[0] == 0
    code, _, err = codectl(capsys, "users", "revoke", "ci", "deployer:prod")
    assert code == 2 and "has no binding" in err
    assert codectl(capsys, "users", "disable", "ci")[0] == 0
    code, _, err = codectl(capsys, "users", "create", "alice")
    assert code == 2 and "already exists" in err


def test_user_mistakes_exit_2_without_traceback(capsys, monkeypatch) -> None:
    monkeypatch.setenv("CODE_NEW_USER_PASSWORD", "short")
    code, _, err = codectl(capsys, "users", "create", "bob")
    assert code == 2 and "password too short" in err
    code, _, err = codectl(capsys, "users", "grant", "bob", "emperor")
    assert code == 2 and "unknown role 'emperor'" in err
    monkeypatch.setenv("CODE_PORT", "x")
    code, _, err = codectl(capsys, "db", "upgrade")
    assert code == 2 and "CODE_PORT" in err
    assert "Traceback" not in err


def test_api_commands_without_login_explain_what_to_do(capsys) -> None:
    code, _, err = codectl(capsys, "services", "list")
    assert code == 2 and "codectl login" in err
    code, _, err = codectl(
        capsys,
        "deployments",
        "list",
        "--server",
        "http://127.0.0.1:9",
    )
    assert code == 2


def test_unreachable_server_is_a_clear_error(capsys, monkeypatch) -> None:
    monkeypatch.setenv("CODE_TOKEN", "t")
    code, _, err = codectl(capsys, "incidents", "list", "--server", "http://127.0.0.1:9")
    assert code == 2 and "cannot reach CODE at http://127.0.0.1:9" in err


def test_rotate_keys_and_jwks(capsys) -> None:
    code, out, _ = codectl(capsys, "auth", "jwks")
    first = {k["kid"] for k in json.loads(out)["keys"]}
    assert codectl(capsys, "auth", "rotate-keys")[0] == 0
    code, out, _ = codectl(capsys, "auth", "jwks")
    assert first < {k["kid"] for k in json.loads(out)["keys"]}


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "code_engine", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("codectl ")
