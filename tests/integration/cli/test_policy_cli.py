"""`codectl` as a real process: role changes asked of the operator's policies,
`codectl policy test` like `opa test`, and `codectl validate` refusing unparsable Rego."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CODECTL = str(Path(sys.executable).parent / "codectl")
ROLE_POLICY = """\
package code

import rego.v1

deny contains msg if {
\tinput.action == "change_roles"
\t"admin" in input.subject.grant
\tmsg := sprintf("%v may not make %v a global admin", [input.principal.id, input.subject.principal])
}
"""


def codectl(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [CODECTL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
    return {**base, "CODE_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1"}


def test_role_changes_ask_the_operators_policies(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "roles.rego").write_text(ROLE_POLICY)
    env["CODE_POLICY_PATHS"] = str(tmp_path / "ops")
    assert codectl(env, "db", "upgrade").returncode == 0
    assert codectl(env, "clients", "create", "ci", "-o", "json").returncode == 0

    refused = codectl(env, "users", "grant", "ci", "admin")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "change_roles refused by policy" in refused.stderr
    assert "may not make ci a global admin" in refused.stderr

    allowed = codectl(env, "users", "grant", "ci", "deployer:dev")
    assert allowed.returncode == 0, allowed.stderr

    with sqlite3.connect(tmp_path / "data" / "code.db") as db:
        rows = db.execute(
            "SELECT action, allowed, length(input_hash), duration_ms >= 0 FROM policy_decisions"
        ).fetchall()
        denied = db.execute(
            "SELECT outcome FROM audit_events WHERE action = 'policy.deny.change_roles'"
        ).fetchall()
        bindings = db.execute("SELECT role, environment FROM role_bindings").fetchall()
    # creating the client with its roles was asked too (allowed), then the grant and the revoke
    assert rows == [
        ("change_roles", 1, 64, 1),
        ("change_roles", 0, 64, 1),
        ("change_roles", 1, 64, 1),
    ]
    assert denied == [("denied",)]
    assert sorted(bindings, key=str) == [("deployer", "dev"), ("viewer", None)]


def test_a_new_principals_roles_ask_the_operators_policies(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "roles.rego").write_text(ROLE_POLICY)
    env["CODE_POLICY_PATHS"] = str(tmp_path / "ops")
    assert codectl(env, "db", "upgrade").returncode == 0

    client = codectl(env, "clients", "create", "root-ci", "--role", "admin")
    assert client.returncode == 1, client.stdout + client.stderr
    assert "may not make root-ci a global admin" in client.stderr
    env["CODE_NEW_USER_PASSWORD"] = "correct horse battery"  # pragma: allowlist secret
    user = codectl(env, "users", "create", "mallory", "--role", "admin")
    assert user.returncode == 1 and "may not make mallory a global admin" in user.stderr

    with sqlite3.connect(tmp_path / "data" / "code.db") as db:
        names = db.execute("SELECT name FROM principals").fetchall()
    assert names == []  # nothing half-created


def test_policy_test_prints_like_opa_test_and_fails_on_a_failure(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "x.rego").write_text("package x\n\nimport rego.v1\n\nanswer := 42\n")
    (tmp_path / "p" / "x_test.rego").write_text(
        "package x_test\n\nimport rego.v1\n\nimport data.x\n\n"
        "test_right if x.answer == 42\n\ntest_wrong if x.answer == 41\n"
    )
    result = codectl(env, "policy", "test", str(tmp_path / "p"), "-v")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("data.x_test.test_right: PASS (")
    assert lines[1].startswith("data.x_test.test_wrong: FAIL (")
    assert lines[-2:] == ["PASS: 1/2", "FAIL: 1/2"]


def test_validate_refuses_unparsable_policies_with_file_and_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "gate.rego").write_text(
        "package code.gate\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg :=\n}\n"
    )
    (tmp_path / "code.yaml").write_text(
        "service: svc\nrepo: .\nenvironments:\n  - name: dev\n    target: {kind: local, "
        'command: "run --port {port}"}\n'
        "policies:\n  - {path: policies/, query: data.code.gate.deny}\n"
    )
    result = codectl(env, "validate", str(tmp_path / "code.yaml"))
    assert result.returncode == 2
    assert f"{tmp_path / 'policies' / 'gate.rego'}:6:" in result.stderr
