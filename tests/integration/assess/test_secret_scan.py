"""The secret scan on small repositories: a real-looking key fails, the same key suppressed
inline (`pragma: allowlist secret`), in a test fixture or as a documented example value
passes, and the report says how many findings it set aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.assess.conftest import NOW
from tests.support.git import git

from code_engine.assess import Status, assess_repository
from code_engine.assess.model import Category

KEY = "AKIA" + "Z7QW3E5R1T2Y4U6I"
EXAMPLE = "AKIA" + "IOSFODNN7EXAMPLE"  # AWS's documented example key
RANDOM = "Xk29dlQ0" + "vzQp"
MODE = 'USER_PASSWORD_AUTH = "USER_PASSWORD_AUTH"\n'  # pragma: allowlist secret
CASES = {
    "key in application code": ({"src/app/settings.py": f'AWS_KEY = "{KEY}"\n'}, Status.FAIL),
    "random password in application code": (
        {"src/app/db.py": f'db_password = "{RANDOM}"\n'},
        Status.FAIL,
    ),
    "suppressed inline": (
        {"src/app/settings.py": f'AWS_KEY = "{KEY}"  # pragma: allowlist secret\n'},
        Status.PASS,
    ),
    "test fixture": ({"tests/test_sts.py": f'KEY = "{KEY}"\n'}, Status.PASS),
    "documented example value": (
        {"src/app/sts.py": f'ACCESS_KEY = "{EXAMPLE}"\n'},
        Status.PASS,
    ),
    "keyword with a word for a value": (
        {"src/app/modes.py": MODE},
        Status.PASS,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_secret_scan_verdicts(tmp_path: Path, case: str) -> None:
    files, status = CASES[case]
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-gpg-sign", "-m", "feat: first")
    report = assess_repository(root, categories=[Category.SECURITY], clock=lambda: NOW)
    result = next(r for r in report.results if r.id == "sec.no-secrets")
    assert result.status is status, (case, result)
    if case in ("test fixture", "documented example value"):
        assert "1 in test fixtures or placeholders not counted" in result.message
