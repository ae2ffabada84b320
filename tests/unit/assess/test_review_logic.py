"""Branch-Protection and Code-Review verdicts from API answers (an in-memory GitHub)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from code_engine.assess.checks import review
from code_engine.assess.gitfacts import Commit, GitFacts
from code_engine.assess.hosting import web_host
from code_engine.assess.model import Status
from code_engine.assess.repo import RepoView
from code_engine.testing import FakeGitHub

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
REPO = "/repos/acme/svc"
SHA = "a" * 40


def view(github: FakeGitHub | None, origin: str = "https://github.com/acme/svc.git") -> RepoView:
    commits = (Commit(SHA, "feat: x", NOW, signed=False, merge=False),)
    result = RepoView(Path("/nonexistent"), [], GitFacts(SHA, commits, (), origin=origin), NOW)
    result.github = github
    return result


def test_force_pushes_allowed_fail_protection() -> None:
    api = FakeGitHub(
        {
            REPO: (200, {"default_branch": "trunk"}),
            f"{REPO}/rules/branches/trunk": (200, []),
            f"{REPO}/branches/trunk/protection": (
                200,
                {
                    "required_pull_request_reviews": {"required_approving_review_count": 1},
                    "allow_force_pushes": {"enabled": True},
                    "allow_deletions": {"enabled": False},
                },
            ),
        }
    )
    outcome = review.branch_protection(view(api))
    assert outcome.status is Status.FAIL
    assert outcome.message == "branch trunk does not require no force pushes"
    assert f"{REPO}/branches/trunk/protection" in api.asked


def test_a_self_approved_pull_request_is_not_reviewed() -> None:
    author = {"login": "alice"}
    api = FakeGitHub(
        {
            f"{REPO}/commits/{SHA}/pulls": (200, [{"number": 3, "merged_at": "x", "user": author}]),
            f"{REPO}/pulls/3/reviews": (200, [{"state": "APPROVED", "user": author}]),
        }
    )
    outcome = review.code_review(view(api))
    assert (outcome.status, outcome.message) == (Status.FAIL, "0 of the last 1 changes reviewed")


def test_without_api_or_off_github() -> None:
    assert review.code_review(view(None)).status is Status.UNKNOWN
    gitlab = view(FakeGitHub(), origin="git@gitlab.com:acme/svc.git")
    assert review.branch_protection(gitlab).status is Status.NOT_APPLICABLE


def test_web_host() -> None:
    assert web_host("https://api.github.com") == "github.com"
    assert web_host("https://ghe.example.com/api/v3") == "ghe.example.com"
