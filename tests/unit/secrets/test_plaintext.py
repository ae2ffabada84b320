"""`codectl validate` refuses plain env values that look like secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.secrets.plaintext import find_plain_secrets, secret_sign
from code_engine.spec import load_spec, load_spec_text

ROOT = Path(__file__).resolve().parents[3]
GITHUB_TAIL = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # pragma: allowlist secret


@pytest.mark.parametrize(
    ("name", "value", "sign"),
    [
        ("DB_PASSWORD", "correct-horse", "its name ends in PASSWORD"),
        ("GITHUB_TOKEN", "x-token-value", "its name ends in TOKEN"),
        ("SESSION_SECRET", "abcdefgh", "its name ends in SECRET"),
        ("STRIPE_KEY", "sk_live_" + "a" * 24, "Stripe"),
        ("ANY", "AKIA" + "ABCDEFGHIJKLMNOP", "AWS"),
        ("ANY", "ghp_" + GITHUB_TAIL, "GitHub"),
        ("BLOB", "q8Zr1LpX0vW7nE3kT9yB5cH2mJ6sD4fA", "high-entropy"),  # pragma: allowlist secret
    ],
)
def test_secret_like_values_are_found(name: str, value: str, sign: str) -> None:
    found = secret_sign(name, value)
    assert found is not None and sign in found
    assert value not in found  # the finding never repeats the value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "debug"),
        ("API_TOKEN_TTL", "900"),
        ("CACHE_KEY", "true"),
        ("SIGNING_KEY", "{python}"),
        ("DATABASE_URL", "postgresql+psycopg://app@127.0.0.1:5432/app"),
        ("GREETING", "hello there, this is a long plain sentence"),
        ("HELLO_VERSION", "{version}"),
    ],
)
def test_ordinary_values_pass(name: str, value: str) -> None:
    assert secret_sign(name, value) is None


def test_findings_name_environment_variable_and_the_way_out(minimal: str) -> None:
    text = minimal + "      env: {DB_PASSWORD: correct-horse}\n"
    [finding] = find_plain_secrets(load_spec_text(text))
    assert finding.field == ("environments", 0, "target", "env", "DB_PASSWORD")
    assert "secrets:" in finding.advice and "docs/secrets.md" in finding.advice
    assert "correct-horse" not in finding.advice


def test_codes_own_spec_has_no_plain_secret() -> None:
    assert find_plain_secrets(load_spec(ROOT / "code.yaml")) == []


@pytest.fixture
def minimal() -> str:
    return """\
service: shop
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: uvicorn shop:app --port {port}
"""
