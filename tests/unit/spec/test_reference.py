from __future__ import annotations

import pytest

from code_engine.spec import docs, json_schema, render_reference


def test_reference_documents_every_model_and_field() -> None:
    text = render_reference()
    schema = json_schema()
    for name, definition in [("ServiceSpec", schema), *schema["$defs"].items()]:
        assert f"\n## {name}\n" in text
        for field in definition["properties"]:
            assert f"| `{field}` |" in text, f"{name}.{field}"


def test_reference_shows_types_defaults_and_places() -> None:
    text = render_reference()
    assert "| `rpo` | duration > 0 | `1h` |" in text
    assert "| `schedule` | cron expression | `0 * * * *` |" in text
    assert "| `service` | DNS label | **required** |" in text
    assert "| `instances` | integer ≥ 1 | `1` |" in text
    assert "| `router` | `builtin` or `haproxy` | `builtin` |" in text
    assert "| `env` | map of string to string | `{}` |" in text
    assert "| `rollout` | [CanaryStrategy](#canarystrategy) or" in text
    assert "`kind: all_at_once`" in text
    assert "At: `rollout`, `environments[].strategy`" in text


def test_docs_module_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    docs.main()
    assert capsys.readouterr().out == render_reference()
