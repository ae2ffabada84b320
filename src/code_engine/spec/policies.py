"""`policies:` of `code.yaml`: Rego bundles the engine asks before every decision."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from code_engine.spec.base import NonBlank, SpecModel, matching, pattern_schema

QUERY_PATTERN = r"^data(\.[A-Za-z_][A-Za-z0-9_]*)+$"


def _check_relative(path: str) -> str:
    if path.startswith("/") or ".." in path.split("/"):
        raise PydanticCustomError(
            "policy_path",
            "{path} must be relative to the repository, without '..'",
            {"path": repr(path)},
        )
    return path


PolicyQuery = Annotated[
    str,
    matching(
        QUERY_PATTERN,
        "policy_query",
        "{value} is not a rule reference like data.code.deploy_gate.deny",
    ),
    pattern_schema(QUERY_PATTERN),
]


class PolicyBundle(SpecModel):
    """Rego v1 files (a directory or one file) and the rule whose messages refuse an action."""

    path: Annotated[NonBlank, AfterValidator(_check_relative)] = Field(
        description="A `.rego` file or a directory of them, relative to the repository; "
        "`*_test.rego` files are left out of decisions (`codectl policy test` runs them).",
        examples=["policies/"],
    )
    query: PolicyQuery = Field(
        description="Rule holding the deny messages: a set (or list) of strings; any message "
        "refuses the action.",
        examples=["data.code.deploy_gate.deny"],
    )
