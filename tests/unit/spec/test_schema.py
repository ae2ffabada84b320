from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from code_engine.spec import json_schema

VALID: dict[str, Any] = {
    "service": "shop",
    "repo": ".",
    "environments": [
        {"name": "dev", "target": {"kind": "local", "command": "run --port {port}"}},
        {"name": "prod", "target": {"kind": "kubernetes", "namespace": "shop"}},
    ],
    "rollout": {
        "kind": "canary",
        "steps": [{"set_weight": 10}, {"analysis": {"interval": "30s"}}, {"pause": {}}],
    },
    "backup": {"store": "s3://b/shop", "rpo": "1h30m"},
}


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_identity() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("urn:code-engine:")
    assert schema["title"] == "code.yaml"
    assert list(schema)[:3] == ["$schema", "$id", "title"]
    assert set(schema["required"]) == {"service", "repo", "environments"}


def test_defaults_are_written_as_in_code_yaml() -> None:
    backup = json_schema()["$defs"]["Backup"]["properties"]
    assert (backup["rpo"]["default"], backup["rto"]["default"]) == ("1h", "4h")
    assert backup["schedule"]["default"] == "0 * * * *"


def test_every_field_is_described() -> None:
    schema = json_schema()
    for name, definition in [("ServiceSpec", schema), *schema["$defs"].items()]:
        assert definition.get("description"), name
        for field, prop in definition["properties"].items():
            assert prop.get("description"), f"{name}.{field}"


def test_valid_spec_satisfies_schema(validator: Draft202012Validator) -> None:
    assert list(validator.iter_errors(VALID)) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("service",), "Shop"),
        (("backup", "rpo"), "5 minutes"),
        (("backup", "rpo"), "0s"),
        (("backup", "schedule"), "0 3 * *"),
        (("rollout", "kind"), "rolling"),
        (("environments", 0, "target", "port"), 70000),
        (("environments", 0, "target", "env"), {"1X": "a"}),
        (("environments", 0, "colour"), "blue"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: Draft202012Validator, path: tuple[Any, ...], value: Any
) -> None:
    data = copy.deepcopy(VALID)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert list(validator.iter_errors(data)) != []
