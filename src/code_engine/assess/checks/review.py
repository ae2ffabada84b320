"""Branch-Protection and Code-Review with OpenSSF Scorecard's meanings, asked of the GitHub
API: not applicable off GitHub, unknown without a token or when the API does not answer."""

from __future__ import annotations

from typing import Any

from code_engine.assess.checks import Checks, limit
from code_engine.assess.hosting import GitHubApi, GitHubRepo, github_repo
from code_engine.assess.model import (
    Category,
    Evidence,
    Outcome,
    failed,
    not_applicable,
    passed,
    unknown,
)
from code_engine.assess.repo import RepoView

checks = Checks(Category.SOURCE_CONTROL, "scm")
REVIEWED_CHANGES = 30  # Scorecard looks at the last 30 changesets
_WITHOUT_API = "needs the GitHub API: pass --github-token (or set GITHUB_TOKEN)"


def _hosted(view: RepoView) -> tuple[GitHubApi, GitHubRepo] | Outcome:
    hosts = dict.fromkeys(["github.com", view.github.host if view.github else "github.com"])
    repo = next((r for h in hosts if (r := github_repo(view.git.origin, h))), None)
    if repo is None:
        return not_applicable(f"origin is not a repository on {' or '.join(hosts)}")
    if view.github is None:
        return unknown(_WITHOUT_API)
    return view.github, repo


def _answer(status: int, what: str) -> Outcome:
    reason = "unreachable" if status == 0 else f"HTTP {status}"
    return unknown(f"the GitHub API did not give {what} ({reason})")


@checks.add(
    "branch-protection",
    2,
    "The default branch is protected (Branch-Protection)",
    target=".github/settings.yml",
    why="Without protection anyone with write access can push unreviewed code, rewrite "
    "history or delete the branch.",
    fix="Protect the default branch (a branch protection rule or ruleset): require a pull "
    "request with at least one approval, block force pushes and deletion.",
)
def branch_protection(view: RepoView) -> Outcome:
    hosted = _hosted(view)
    if isinstance(hosted, Outcome):
        return hosted
    api, repo = hosted
    status, info = api.get(repo.path)
    if status != 200 or not isinstance(info, dict):
        return _answer(status, "the repository")
    branch = str(info.get("default_branch") or "main")
    where = Evidence(note=f"{repo.owner}/{repo.name} branch {branch}")
    status, rules = api.get(f"{repo.path}/rules/branches/{branch}")
    kinds = _ruleset(rules if status == 200 and isinstance(rules, list) else [])
    status, protection = api.get(f"{repo.path}/branches/{branch}/protection")
    if status == 200 and isinstance(protection, dict):
        kinds |= _classic(protection)
    elif status != 404 and not kinds:
        return _answer(status, "the branch protection")
    missing = [
        text
        for kind, text in (
            ("review", "a pull request with an approval"),
            ("no-force-push", "no force pushes"),
            ("no-deletion", "no deletion"),
        )
        if kind not in kinds
    ]
    if not kinds:
        return failed(f"branch {branch} is not protected", where)
    if missing:
        return failed(f"branch {branch} does not require {', '.join(missing)}", where)
    return passed(f"branch {branch} is protected", where)


def _classic(protection: dict[str, Any]) -> set[str]:
    kinds = {"protected"}
    reviews = protection.get("required_pull_request_reviews")
    if isinstance(reviews, dict) and int(reviews.get("required_approving_review_count", 0)) > 0:
        kinds.add("review")
    for key, kind in (("allow_force_pushes", "no-force-push"), ("allow_deletions", "no-deletion")):
        setting = protection.get(key)
        if not (isinstance(setting, dict) and setting.get("enabled")):
            kinds.add(kind)
    return kinds


def _ruleset(rules: list[Any]) -> set[str]:
    kinds: set[str] = set()
    for rule in rules:
        kind = rule.get("type") if isinstance(rule, dict) else None
        parameters = rule.get("parameters") if isinstance(rule, dict) else None
        if kind == "pull_request" and isinstance(parameters, dict):
            if int(parameters.get("required_approving_review_count", 0)) > 0:
                kinds.add("review")
        elif kind == "non_fast_forward":
            kinds.add("no-force-push")
        elif kind == "deletion":
            kinds.add("no-deletion")
    return kinds | ({"protected"} if kinds else set())


@checks.add(
    "code-review",
    3,
    "Recent changes were reviewed before they merged (Code-Review)",
    target=".github/CODEOWNERS",
    why="A second person reading each change catches mistakes and malicious commits.",
    fix="Merge every change through a pull request approved by someone other than its author.",
)
def code_review(view: RepoView) -> Outcome:
    hosted = _hosted(view)
    if isinstance(hosted, Outcome):
        return hosted
    api, repo = hosted
    changes = [c for c in view.git.commits if not c.merge][:REVIEWED_CHANGES]
    if not changes:
        return unknown("no commits to look at")
    unreviewed: list[Evidence] = []
    for commit in changes:
        status, pulls = api.get(f"{repo.path}/commits/{commit.sha}/pulls")
        if status != 200 or not isinstance(pulls, list):
            return _answer(status, f"the pull requests of {commit.sha[:12]}")
        merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
        if not merged:
            unreviewed.append(Evidence(note=f"{commit.sha[:12]} {commit.subject}: no pull request"))
            continue
        pull = merged[0]
        status, reviews = api.get(f"{repo.path}/pulls/{pull.get('number')}/reviews")
        if status != 200 or not isinstance(reviews, list):
            return _answer(status, f"the reviews of pull request #{pull.get('number')}")
        author = (pull.get("user") or {}).get("login")
        if not any(_approval(r, author) for r in reviews):
            note = f"{commit.sha[:12]} {commit.subject}: #{pull.get('number')} not approved"
            unreviewed.append(Evidence(note=note))
    reviewed = len(changes) - len(unreviewed)
    summary = f"{reviewed} of the last {len(changes)} changes reviewed"
    if unreviewed:
        return failed(summary, *limit(unreviewed))
    return passed(summary)


def _approval(review: Any, author: Any) -> bool:
    if not isinstance(review, dict) or review.get("state") != "APPROVED":
        return False
    return bool((review.get("user") or {}).get("login") != author)


CHECKS = tuple(checks.all)
