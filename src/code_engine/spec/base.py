"""The base of every spec model, located validation errors and shared constrained types."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class SpecModel(BaseModel):
    """A part of `code.yaml`: immutable, strictly typed, and unknown keys are errors."""

    # strict: YAML already gives real ints and booleans, so "2" for an int is a mistake
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def rule_error(message: str, *at: str | int) -> PydanticCustomError:
    """A broken cross-field rule, located at `at` below the field or model that checks it."""
    return PydanticCustomError("spec_rule", message, {"at": at})


def _check_dns_label(value: str) -> str:
    if not re.fullmatch(DNS_LABEL_PATTERN, value):
        raise PydanticCustomError(
            "dns_label",
            "{value} is not a DNS label: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
            {"value": repr(value)},
        )
    return value


DnsLabel = Annotated[
    str,
    AfterValidator(_check_dns_label),
    WithJsonSchema({"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 63}),
]
"""A name usable in hostnames and Kubernetes objects, e.g. `code-engine`."""


def _check_non_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


NonBlank = Annotated[
    str,
    AfterValidator(_check_non_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "pattern": r"\S"}),
]
"""A string with at least one non-space character."""


def matching(pattern: str, kind: str, message: str) -> AfterValidator:
    """The check of a string that must match `pattern`; `message` names the bad value as
    `{value}`. Pair it with `pattern_schema(pattern)` in the type's `Annotated`."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise PydanticCustomError(kind, message, {"value": repr(value)})
        return value

    return AfterValidator(check)


def pattern_schema(pattern: str) -> WithJsonSchema:
    """The JSON Schema of a string that must match `pattern`."""
    return WithJsonSchema({"type": "string", "pattern": pattern})
