"""Levels, the registry's shape, git-log parsing and the secrets gates."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from code_engine.assess import gitfacts, secrets
from code_engine.assess.levels import category_level, repository_level
from code_engine.assess.model import Category, CheckResult, Evidence, Status
from code_engine.assess.registry import BY_ID, CHECKS, category_named, checks_of


def _result(level: int, status: Status) -> CheckResult:
    return CheckResult("x.y", "t", Category.SECURITY, level, status, "", (), "fix", "f")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({1: Status.PASS, 2: Status.PASS, 3: Status.PASS}, 3),
        ({1: Status.PASS, 2: Status.PASS, 3: Status.FAIL}, 2),
        ({1: Status.PASS, 2: Status.FAIL, 3: Status.PASS}, 1),
        ({1: Status.FAIL, 2: Status.PASS, 3: Status.PASS}, 0),
        ({1: Status.NOT_APPLICABLE, 2: Status.PASS, 3: Status.NOT_APPLICABLE}, 3),
    ],
)
def test_category_level_needs_every_lower_check(statuses: dict[int, Status], expected: int) -> None:
    assert category_level([_result(level, s) for level, s in statuses.items()]) == expected


def test_repository_level_is_the_weakest_category() -> None:
    assert repository_level([3, 1, 2]) == 1
    assert repository_level([]) == 0


def test_registry_shape() -> None:
    assert len(CHECKS) == len(BY_ID) >= 45
    for category in Category:
        checks = checks_of(category)
        assert len(checks) >= 4, category
        assert {c.level for c in checks} == {1, 2, 3}, category
    for check in CHECKS:
        assert re.fullmatch(r"[a-z]+\.[a-z0-9-]+", check.id)
        assert check.target and not check.target.endswith("/")


def test_category_names() -> None:
    assert category_named("sec") is Category.SECURITY
    assert category_named("Security") is Category.SECURITY
    assert category_named("continuous-d") is Category.CONTINUOUS_DEPLOYMENT
    assert category_named("continuous") is None
    assert category_named("nope") is None


def test_evidence_rendering() -> None:
    assert Evidence("a.yml", 3, "bad").render() == "a.yml:3: bad"
    assert Evidence("a.yml").render() == "a.yml"
    assert Evidence(note="12/20 signed").render() == "12/20 signed"


RAW_LOG = """\
commit 1111111111111111111111111111111111111111
tree aaaa
parent 2222222222222222222222222222222222222222
author A <a@x> 1790000000 +0000
committer A <a@x> 1790000000 +0000
gpgsig -----BEGIN SSH SIGNATURE-----
 abc
 -----END SSH SIGNATURE-----

    feat(api): add things

    Body line.

commit 2222222222222222222222222222222222222222
tree bbbb
parent 3333333333333333333333333333333333333333
parent 4444444444444444444444444444444444444444
author A <a@x> 1780000000 +0000
committer A <a@x> 1780000000 +0200

    Merge branch 'x'
"""


def test_raw_log_parsing() -> None:
    first, merge = gitfacts._parse_raw_log(RAW_LOG)
    assert first.signed and first.conventional and not first.merge
    assert first.subject == "feat(api): add things"
    assert first.committed_at == datetime.fromtimestamp(1790000000, tz=timezone.utc)
    assert merge.merge and not merge.signed and not merge.conventional


@pytest.mark.parametrize(
    ("subject", "ok"),
    [
        ("feat: x", True),
        ("fix(scope)!: y", True),
        ("chore(deps-dev): bump", True),
        ("Feat: x", False),
        ("update stuff", False),
        ("feat:x", False),
    ],
)
def test_conventional_subjects(subject: str, ok: bool) -> None:
    commit = gitfacts.Commit("s", subject, datetime.now(timezone.utc), False, False)
    assert commit.conventional is ok


def test_semver_tags() -> None:
    facts = gitfacts.GitFacts("h", (), ("v1.2.3", "1.0.0-rc.1", "latest", "v2"))
    assert facts.semver_tags == ("v1.2.3", "1.0.0-rc.1")


EXAMPLES = {
    "AWSKeyDetector": 'key = "AKIA' + 'Z7QW3E5R1T2Y4U6I"',
    "GitHubTokenDetector": 'token = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '"',
    "PrivateKeyDetector": "-----BEGIN RSA " + "PRIVATE KEY-----",
    "KeywordDetector": 'db_password = "' + 'Xk29dlQ0vz"',
    "BasicAuthDetector": "url = 'https://admin:" + "Xk29dlQ0vz@db.internal/x'",
    "SlackDetector": "hook = 'xoxb-" + "123456789012-abcdefghijkl'",
    "StripeDetector": "stripe = 'sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2'",
    "JwtTokenDetector": "t = 'eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxIn0.c2lnbmF0dXJl'",
}


@pytest.mark.parametrize("detector", sorted(EXAMPLES))
def test_gates_let_real_secrets_through(detector: str) -> None:
    """A line with a secret reaches the detector: it passes git grep and the literal gate."""
    from detect_secrets.settings import transient_settings

    line = EXAMPLES[detector]
    lower = line.lower()
    assert any(a in lower for a in secrets.ANCHORS) or any(t in line for t in secrets.TOKENS)
    precise = re.search(secrets.PRECISE, line, re.IGNORECASE)
    assert precise or any(t in line for t in secrets.TOKENS)
    with transient_settings({"plugins_used": [{"name": n} for n in secrets.GATES]}):
        plugins = secrets._plugins()
        chosen = secrets._detectors(line, plugins)
        assert detector in {type(p).__name__ for p in chosen}
        found = list(secrets._scan_line("f.py", "/nonexistent/f.py", [line], 0, chosen))
    assert found and found[0][0].line == 1


# their patterns also require a credential word (key, pw, pass, token) or a URL: an anchor
_ANCHORED_BY_PATTERN = {"CloudantDetector", "SoftlayerDetector"}


def test_every_gate_literal_is_reachable_from_the_prefilter() -> None:
    for detector, words in secrets.GATES.items():
        if detector in _ANCHORED_BY_PATTERN:
            continue
        for word in words:
            anchored = any(a in word for a in secrets.ANCHORS)
            token = any(t.lower() in word for t in secrets.TOKENS)
            assert anchored or token, (detector, word)
