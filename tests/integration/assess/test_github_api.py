"""Branch-Protection and Code-Review through the GitHub API, against a local HTTP server
that serves recorded GitHub responses: pass, fail, unknown (no token, API refusing) and not
applicable (not on GitHub), through the library and through `codectl assess`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.integration.assess.conftest import NOW
from tests.support.git import git
from tests.support.network import free_port

from code_engine.assess import Status, assess_repository
from code_engine.assess.hosting import HttpGitHub, github_repo
from code_engine.assess.model import Category

TOKEN = "ghp_" + "x" * 36  # pragma: allowlist secret
REPO = "/repos/acme/svc"
CHECKS = ("scm.branch-protection", "scm.code-review")
# trimmed from real answers of the GitHub REST API (2022-11-28)
REPOSITORY = {"id": 1, "full_name": "acme/svc", "default_branch": "main", "private": False}
PROTECTION = {
    "url": "https://api.github.com/repos/acme/svc/branches/main/protection",
    "required_pull_request_reviews": {
        "dismiss_stale_reviews": True,
        "require_code_owner_reviews": True,
        "required_approving_review_count": 1,
    },
    "enforce_admins": {"enabled": True},
    "allow_force_pushes": {"enabled": False},
    "allow_deletions": {"enabled": False},
}
NOT_PROTECTED = {
    "message": "Branch not protected",
    "documentation_url": "https://docs.github.com/rest/branches/branch-protection",
    "status": "404",
}


def pull(number: int, author: str = "alice") -> dict[str, Any]:
    return {
        "number": number,
        "state": "closed",
        "merged_at": "2026-10-30T10:00:00Z",
        "user": {"login": author},
    }


def review(state: str, login: str) -> dict[str, Any]:
    return {"id": 80, "user": {"login": login}, "state": state, "commit_id": "0" * 40}


class Recorded(BaseHTTPRequestHandler):
    responses: dict[str, tuple[int, Any]] = {}
    authorizations: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        self.authorizations.append(self.headers.get("Authorization", ""))
        status, body = self.responses.get(self.path, (404, {"message": "Not Found"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "svc"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for number in (1, 2):
        (root / "README.md").write_text(f"# svc {number}\n", encoding="utf-8")
        git(root, "add", "-A")
        git(root, "commit", "-q", "--no-gpg-sign", "-m", f"feat: change {number}")
    git(root, "remote", "add", "origin", "git@github.com:acme/svc.git")
    return root


def serve(repo: Path, *, protected: bool, approvals: tuple[str, ...]) -> None:
    shas = git(repo, "log", "--format=%H").split()
    responses: dict[str, tuple[int, Any]] = {
        REPO: (200, REPOSITORY),
        f"{REPO}/rules/branches/main": (200, []),
        f"{REPO}/branches/main/protection": (200, PROTECTION)
        if protected
        else (404, NOT_PROTECTED),
    }
    for sha in shas:
        responses[f"{REPO}/commits/{sha}/pulls"] = (200, [])  # pushed without a pull request
    for number, (sha, approver) in enumerate(zip(shas, approvals, strict=False), start=7):
        responses[f"{REPO}/commits/{sha}/pulls"] = (200, [pull(number)])
        state = "APPROVED" if approver else "COMMENTED"
        responses[f"{REPO}/pulls/{number}/reviews"] = (200, [review(state, approver or "bob")])
    Recorded.responses = responses
    Recorded.authorizations = []


def verdicts(repo: Path, api: str | None, token: str = TOKEN) -> dict[str, Status]:
    github = HttpGitHub(token, api) if api else None
    try:
        report = assess_repository(
            repo, categories=[Category.SOURCE_CONTROL], clock=lambda: NOW, github=github
        )
    finally:
        if github is not None:
            github.close()
    return {r.id: r.status for r in report.results if r.id in CHECKS}


def test_protected_and_reviewed_passes(repo: Path, api: str) -> None:
    serve(repo, protected=True, approvals=("bob", "carol"))
    assert verdicts(repo, api) == dict.fromkeys(CHECKS, Status.PASS)
    assert set(Recorded.authorizations) == {f"Bearer {TOKEN}"}


def test_unprotected_and_unreviewed_fails(repo: Path, api: str) -> None:
    # the second change was approved by its own author only: not a review
    serve(repo, protected=False, approvals=("bob", "alice"))
    assert verdicts(repo, api) == dict.fromkeys(CHECKS, Status.FAIL)


def test_a_change_without_a_pull_request_is_not_reviewed(repo: Path, api: str) -> None:
    serve(repo, protected=True, approvals=("bob",))
    found = verdicts(repo, api)
    assert found["scm.code-review"] is Status.FAIL


def test_ruleset_protection_counts(repo: Path, api: str) -> None:
    serve(repo, protected=False, approvals=("bob", "carol"))
    Recorded.responses[f"{REPO}/rules/branches/main"] = (
        200,
        [
            {"type": "deletion", "ruleset_id": 1},
            {"type": "non_fast_forward", "ruleset_id": 1},
            {"type": "pull_request", "parameters": {"required_approving_review_count": 2}},
        ],
    )
    assert verdicts(repo, api)["scm.branch-protection"] is Status.PASS


def test_without_a_token_both_are_unknown(repo: Path) -> None:
    assert verdicts(repo, None) == dict.fromkeys(CHECKS, Status.UNKNOWN)


def test_an_api_that_refuses_is_unknown(repo: Path, api: str) -> None:
    serve(repo, protected=True, approvals=("bob", "carol"))
    refused = (401, {"message": "Bad credentials"})
    Recorded.responses = dict.fromkeys(Recorded.responses, refused)
    assert verdicts(repo, api) == dict.fromkeys(CHECKS, Status.UNKNOWN)


def test_an_unreachable_api_is_unknown(repo: Path) -> None:
    assert verdicts(repo, f"http://127.0.0.1:{free_port()}") == dict.fromkeys(
        CHECKS, Status.UNKNOWN
    )


def test_off_github_they_do_not_apply(repo: Path, api: str) -> None:
    git(repo, "remote", "set-url", "origin", "https://gitlab.example.com/acme/svc.git")
    assert verdicts(repo, api) == dict.fromkeys(CHECKS, Status.NOT_APPLICABLE)


def test_codectl_reads_the_token_from_the_environment(repo: Path, api: str) -> None:
    serve(repo, protected=True, approvals=("bob", "carol"))
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api}
    done = subprocess.run(
        [sys.executable, "-m", "code_engine", "assess", str(repo), "-c", "scm", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = {
        r["id"]: r["status"]
        for category in json.loads(done.stdout)["categories"]
        for r in category["checks"]
    }
    assert [results[c] for c in CHECKS] == ["pass", "pass"]


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("git@github.com:acme/svc.git", ("acme", "svc")),
        ("https://github.com/acme/svc", ("acme", "svc")),
        ("ssh://git@github.com/acme/svc.git", ("acme", "svc")),
        ("https://gitlab.com/acme/svc.git", None),
        ("https://github.com/acme", None),
    ],
)
def test_origin_urls(origin: str, expected: tuple[str, str] | None) -> None:
    found = github_repo(origin)
    assert (None if found is None else (found.owner, found.name)) == expected
