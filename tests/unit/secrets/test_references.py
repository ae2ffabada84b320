"""Secret references in code.yaml: their syntax, checked at load with file:line."""

from __future__ import annotations

import pytest

from code_engine.errors import InvalidFileError
from code_engine.spec import load_spec_text
from code_engine.spec.secret_refs import parse_reference

SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: uvicorn shop:app --port {{port}}
      env: {{LOG_LEVEL: debug}}
    secrets:
      DB_PASSWORD: {reference}
"""


def test_the_three_schemes_parse() -> None:
    vault = parse_reference("vault://secret/shop/db#password")
    assert (vault.scheme, vault.mount, vault.path, vault.key) == (
        "vault",
        "secret",
        "shop/db",
        "password",
    )
    assert parse_reference("env://SHOP_DB").key == "SHOP_DB"
    assert parse_reference("file:///run/secrets/db").path == "/run/secrets/db"
    assert str(vault) == "vault://secret/shop/db#password"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("vault://secret/shop/db", "is not a secret reference"),
        ("vault://secret#key", "is not a secret reference"),
        ("env://1BAD", "is not a secret reference"),
        ("file://relative/path", "is not a secret reference"),
        ("s3://bucket/key", "unknown scheme 's3'"),
        ("hunter2", "is not a secret reference"),
    ],
)
def test_a_bad_reference_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_reference(text)


def test_a_spec_with_secrets_loads() -> None:
    spec = load_spec_text(SPEC.format(reference="vault://secret/shop/db#password"))
    reference = "vault://secret/shop/db#password"
    assert dict(spec.environments[0].secrets) == {"DB_PASSWORD": reference}


def test_a_bad_reference_is_refused_at_load_with_its_line() -> None:
    with pytest.raises(InvalidFileError) as caught:
        load_spec_text(SPEC.format(reference="vault:/nope"), "code.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (10, "environments.0.secrets.DB_PASSWORD")
    assert "'vault:/nope' is not a secret reference" in problem.message


def test_a_name_both_plain_and_secret_is_refused() -> None:
    text = SPEC.format(reference="env://X").replace("LOG_LEVEL: debug", "DB_PASSWORD: x")
    with pytest.raises(InvalidFileError) as caught:
        load_spec_text(text, "code.yaml")
    [problem] = caught.value.problems
    assert "DB_PASSWORD is both a plain env value and a secret" in problem.message
    assert problem.line == 10
