"""Hostile repositories: links out, special files, huge files, YAML bombs, bad bytes, bad HCL.

Each case is built by the test and has its expected verdict: the assessment finishes, the
refused file is a finding, and nothing outside the repository is read or shown.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from rich.console import Console
from tests.integration.assess.conftest import NOW, Builder

from code_engine.assess import assess_repository, report_to_dict
from code_engine.assess.model import Report, Status
from code_engine.assess.render.markdown import render_markdown
from code_engine.assess.render.table import print_table
from code_engine.assess.repo import CONFIG_MAX_BYTES, SOURCE_MAX_BYTES

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


def _assess(repo: Path) -> Report:
    return assess_repository(repo, clock=lambda: NOW)


def _status(report: Report, check_id: str) -> Status:
    return next(r.status for r in report.results if r.id == check_id)


def _finding(report: Report, name: str) -> str:
    notes = [f.note for f in report.findings if f.file == name]
    assert notes, f"no finding for {name}: {report.findings}"
    return notes[0]


def _replace(repo: Path, name: str) -> Path:
    path = repo / name
    path.unlink()
    return path


def test_symlink_to_etc_passwd_is_a_finding_and_never_read(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    repo = build_repo(level3)
    _replace(repo, ".pre-commit-config.yaml").symlink_to("/etc/passwd")
    (repo / "leak.txt").symlink_to("/etc/passwd")
    report = _assess(repo)
    assert "outside the repository" in _finding(report, ".pre-commit-config.yaml")
    assert "outside the repository" in _finding(report, "leak.txt")
    assert _status(report, "dev.pre-commit") is Status.FAIL
    assert "root:" not in json.dumps(report_to_dict(report))


def test_symlink_inside_the_repository_is_followed(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    repo = build_repo(level3)
    (repo / "hooks.yaml").write_text(level3[".pre-commit-config.yaml"])
    _replace(repo, ".pre-commit-config.yaml").symlink_to("hooks.yaml")
    report = _assess(repo)
    assert _status(report, "dev.pre-commit") is Status.PASS
    assert not report.findings


def test_symlink_to_a_device_and_a_directory_are_refused(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    repo = build_repo(level3)
    _replace(repo, "Dockerfile").symlink_to("/dev/zero")
    (repo / "src" / "svc" / "etc.py").symlink_to("/etc")
    report = _assess(repo)
    assert "outside the repository" in _finding(report, "Dockerfile")
    assert "outside the repository" in _finding(report, "src/svc/etc.py")
    assert _status(report, "ctr.dockerfile") is Status.FAIL


def test_broken_symlink_is_a_finding(build_repo: Builder, level3: dict[str, str]) -> None:
    repo = build_repo(level3)
    _replace(repo, ".pre-commit-config.yaml").symlink_to("does-not-exist.yaml")
    report = _assess(repo)
    assert "broken symbolic link" in _finding(report, ".pre-commit-config.yaml")
    assert _status(report, "dev.pre-commit") is Status.FAIL


def test_fifo_and_socket_are_never_opened(build_repo: Builder, level3: dict[str, str]) -> None:
    repo = build_repo(level3)
    # tracked files replaced on disk: git still lists them, the assessor must not block on them
    os.mkfifo(_replace(repo, "docs/runbooks/restore.md"))
    os.mkfifo(_replace(repo, ".github/workflows/ci.yml"))
    report = _assess(repo)
    assert "a FIFO" in _finding(report, ".github/workflows/ci.yml")
    assert "a FIFO" in _finding(report, "docs/runbooks/restore.md")
    assert _status(report, "ci.workflow") is Status.FAIL
    assert _status(report, "dr.restore-runbook") is Status.FAIL


def test_huge_files_are_skipped_with_a_note(build_repo: Builder, level3: dict[str, str]) -> None:
    files = dict(level3)
    # source gets the larger cap: a 1 MiB module is read, a config file of that size is not
    files["src/svc/app.py"] = level3["src/svc/app.py"] + "#" * (CONFIG_MAX_BYTES * 4) + "\n"
    repo = build_repo(files)
    with (repo / "src" / "svc" / "huge.py").open("wb") as handle:
        handle.truncate(SOURCE_MAX_BYTES + 1)
    with (repo / "deploy" / "k8s" / "base" / "big.yaml").open("w") as handle:
        handle.write("items:\n" + "  - x\n" * (CONFIG_MAX_BYTES // 6 + 1))
    report = _assess(repo)
    assert "cap" in _finding(report, "src/svc/huge.py")
    assert "cap" in _finding(report, "deploy/k8s/base/big.yaml")
    assert not [f for f in report.findings if f.file == "src/svc/app.py"]
    assert _status(report, "obs.metrics") is Status.PASS


def test_alias_bomb_is_refused_as_a_finding(build_repo: Builder, level3: dict[str, str]) -> None:
    files = dict(level3)
    files[".github/workflows/ci.yml"] = level3[".github/workflows/ci.yml"] + BOMB
    files["docker-compose.yml"] = "[" * 5000 + "]" * 5000 + "\n"
    repo = build_repo(files)
    report = _assess(repo)
    assert "aliases expand" in _finding(report, ".github/workflows/ci.yml")
    assert "nested deeper" in _finding(report, "docker-compose.yml")
    assert _status(report, "ci.workflow") is Status.FAIL
    assert _status(report, "dev.compose-stack") is Status.FAIL


def test_invalid_utf8_is_decoded_with_replacement(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    repo = build_repo(level3)
    app = repo / "src" / "svc" / "app.py"
    app.write_bytes(b"# \xff\xfe caf\xe9\n" + level3["src/svc/app.py"].encode())
    (repo / "SECURITY.md").write_bytes(
        b"# Security \xc3\x28\n\nReport privately to security@acme.example.\n"
    )
    report = _assess(repo)
    assert _status(report, "obs.metrics") is Status.PASS
    assert _status(report, "sec.security-policy") is Status.PASS
    assert not report.findings


def test_broken_hcl_is_a_finding(build_repo: Builder, level3: dict[str, str]) -> None:
    files = dict(level3)
    files["infra/backend.tf"] = 'terraform {\n  backend "s3" {\n    bucket = \n  }\n'
    repo = build_repo(files)
    report = _assess(repo)
    assert _finding(report, "infra/backend.tf").startswith("invalid HCL")
    assert _status(report, "iac.remote-state") is Status.FAIL
    evidence = next(r.evidence for r in report.results if r.id == "iac.remote-state")
    assert any(e.file == "infra/backend.tf" for e in evidence)


def test_the_cli_shows_findings(build_repo: Builder, level3: dict[str, str]) -> None:
    repo = build_repo(level3)
    (repo / "leak.txt").symlink_to("/etc/passwd")
    done = subprocess.run(
        ["codectl", "assess", str(repo), "--output", "json"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "PATH": str(Path(os.sys.executable).parent) + os.pathsep + os.environ["PATH"],
        },
    )
    data = json.loads(done.stdout)
    assert [f["file"] for f in data["findings"]] == ["leak.txt"]
    assert "root:" not in done.stdout
    report = _assess(repo)
    assert "leak.txt: symbolic link points outside" in render_markdown(report)
    console = Console(record=True, width=200)
    print_table(report, console)
    assert "leak.txt: symbolic link points outside" in console.export_text()
