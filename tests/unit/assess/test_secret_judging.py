"""Which detect-secrets findings count: not test fixtures, not placeholders, and a keyword
assignment only when its value looks random."""

from __future__ import annotations

import pytest

from code_engine.assess.secrets import entropy, judge

AWS = "AWS Access Key"
KEY = "AKIA" + "Z7QW3E5R1T2Y4U6I"
EXAMPLE = "AKIA" + "IOSFODNN7EXAMPLE"
KEYWORD = "Secret Keyword"


@pytest.mark.parametrize(
    ("file", "kind", "value", "reason"),
    [
        ("src/app/settings.py", AWS, KEY, None),
        ("src/app/settings.py", KEYWORD, "Xk29dlQ0vzQp", None),
        ("tests/test_login.py", KEYWORD, "Xk29dlQ0vzQp", "test fixture"),
        ("pkg/auth/login_test.go", AWS, KEY, "test fixture"),
        ("web/src/login.test.ts", KEYWORD, "Xk29dlQ0vzQp", "test fixture"),
        ("fixtures/keys.json", AWS, KEY, "test fixture"),
        ("src/sts.py", AWS, EXAMPLE, "placeholder value"),
        ("src/conf.py", KEYWORD, "${DB_PASSWORD}", "placeholder value"),
        ("src/conf.py", KEYWORD, "changeme", "placeholder value"),
        ("src/conf.py", KEYWORD, "xxxxxxxxxxxx", "placeholder value"),
        ("src/conf.py", KEYWORD, "FORCE_CHANGE_PASSWORD", "placeholder value"),
        ("src/conf.py", KEYWORD, "apiKeySource", "not a random value"),
        ("src/conf.py", KEYWORD, "rotating", "not a random value"),
        ("src/conf.py", KEYWORD, "s3cr", "not a random value"),
        ("src/conf.py", KEYWORD, "hunter2", "not a random value"),
    ],
)
def test_judge(file: str, kind: str, value: str, reason: str | None) -> None:
    assert judge(file, kind, value) == reason


def test_entropy() -> None:
    assert entropy("aaaa") == 0
    assert entropy("abcd") == 2
    assert entropy("Xk29dlQ0vzQp") > 3
