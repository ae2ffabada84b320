"""Resolution through the registry of backends, with the in-memory store."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.observe import scrub
from code_engine.secrets.backends import EnvBackend, FileBackend
from code_engine.secrets.errors import SecretError
from code_engine.secrets.resolver import SecretResolver
from code_engine.testing import FakeSecretStore

REF = "vault://secret/shop/db#password"
VALUE = "s3cr3t-value-for-tests"  # pragma: allowlist secret


def test_every_backend_of_the_registry_resolves(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("file-token-value\n")
    remembered: list[str] = []
    resolver = SecretResolver(
        {
            "vault": FakeSecretStore({REF: VALUE}),
            "env": EnvBackend({"SHOP_KEY": "env-key-value"}),
            "file": FileBackend(),
        },
        remember=remembered.extend,
    )
    refs = {"A": REF, "B": "env://SHOP_KEY", "C": f"file://{tmp_path}/token"}
    assert resolver.resolve(refs) == {"A": VALUE, "B": "env-key-value", "C": "file-token-value"}
    assert sorted(remembered) == sorted([VALUE, "env-key-value", "file-token-value"])


@pytest.mark.parametrize(
    ("refs", "says"),
    [
        (
            {"A": "vault://secret/shop/other#k"},
            "secret vault://secret/shop/other#k: no such secret",
        ),
        ({"A": "env://NOPE"}, "secret env://NOPE: NOPE is not set in CODE's environment"),
        ({"A": "file:///nonexistent/x"}, "secret file:///nonexistent/x: no such file"),
    ],
)
def test_a_failure_names_the_reference(refs: dict[str, str], says: str) -> None:
    resolver = SecretResolver(
        {"vault": FakeSecretStore({REF: VALUE}), "env": EnvBackend({}), "file": FileBackend()},
        remember=lambda _values: None,
    )
    with pytest.raises(SecretError) as caught:
        resolver.resolve(refs)
    assert str(caught.value) == says


def test_all_or_nothing_and_no_value_in_the_error() -> None:
    store = FakeSecretStore({REF: VALUE})
    remembered: list[str] = []
    resolver = SecretResolver({"vault": store}, remember=remembered.extend)
    with pytest.raises(SecretError) as caught:
        resolver.resolve({"A": REF, "B": "vault://secret/missing#x"})
    assert VALUE not in str(caught.value)
    assert remembered == []
    store.down = True
    with pytest.raises(SecretError, match="unreachable"):
        resolver.resolve({"A": REF})


def test_a_scheme_without_backend_is_refused() -> None:
    with pytest.raises(SecretError, match="no backend for env://"):
        SecretResolver({}, remember=lambda _values: None).resolve({"A": "env://X"})


def test_remembered_values_are_scrubbed_from_log_fields() -> None:
    scrub.remember([VALUE, "abc"])  # too short to mask ordinary text
    try:
        assert scrub.scrub_text(f"url=postgres://u:{VALUE}@db abc") == (
            "url=postgres://u:[redacted]@db abc"
        )
        assert scrub.scrub_value({"e": [VALUE]}) == {"e": ["[redacted]"]}
    finally:
        scrub.forget_all()


def test_a_resolved_value_never_reaches_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    from code_engine.observe.logging import configure_logging, get_logger

    configure_logging("info", "json")
    resolver = SecretResolver({"vault": FakeSecretStore({REF: VALUE})})
    try:
        values = resolver.resolve({"DB_PASSWORD": REF})
        get_logger("test").warning("oops", detail=f"dsn=postgres://u:{values['DB_PASSWORD']}@db")
        line = capsys.readouterr().err
        assert "dsn=postgres://u:[redacted]@db" in line and VALUE not in line
    finally:
        scrub.forget_all()
