"""The JSON Schema of `code.yaml`, for editors, CI checks and the reference docs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from code_engine.spec.duration import format_duration
from code_engine.spec.service import ServiceSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:code-engine:schema:code.yaml:v1"


class _SpecJsonSchema(GenerateJsonSchema):
    """Writes duration defaults as code.yaml spells them (`1h`), not as ISO 8601 (`PT1H`)."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        return super().encode_default(dft)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every valid `code.yaml` satisfies."""
    body = ServiceSpec.model_json_schema(schema_generator=_SpecJsonSchema)
    body.pop("title", None)
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, "title": "code.yaml", **body}
