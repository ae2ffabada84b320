"""Secret references of `code.yaml`: `vault://MOUNT/PATH#KEY`, `env://NAME`, `file:///path`.

Only the syntax lives here (checked when the spec loads); resolving a reference to its value
is the `secrets` capability's work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

SCHEMES = ("vault", "env", "file")
REFERENCE_PATTERN = r"^(vault://[^/#\s]+/[^#\s]+#[^#\s]+|env://[A-Za-z_][A-Za-z0-9_]*|file:///\S+)$"
_VAULT = re.compile(r"vault://(?P<mount>[^/#\s]+)/(?P<path>[^#\s]+)#(?P<key>[^#\s]+)")
_ENV = re.compile(r"env://(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
_FILE = re.compile(r"file://(?P<path>/\S+)")
EXAMPLES = "vault://secret/shop/db#password, env://SHOP_DB_PASSWORD or file:///run/secrets/db"


@dataclass(frozen=True)
class SecretReference:
    """Where a secret lives; `text` is the reference as written (never the value)."""

    scheme: str
    text: str
    mount: str = ""  # vault: the KV v2 mount
    path: str = ""  # vault: the secret's path under the mount; file: the file
    key: str = ""  # vault: the key inside the secret; env: the variable's name

    def __str__(self) -> str:
        return self.text


def parse_reference(text: str) -> SecretReference:
    """The reference `text` names; ValueError says what is wrong with it."""
    if (found := _VAULT.fullmatch(text)) is not None:
        path = found["path"].strip("/")
        if not path or "//" in path:
            raise ValueError(f"{text!r}: the path after the mount must not be empty")
        return SecretReference("vault", text, found["mount"], path, found["key"])
    if (found := _ENV.fullmatch(text)) is not None:
        return SecretReference("env", text, key=found["name"])
    if (found := _FILE.fullmatch(text)) is not None:
        return SecretReference("file", text, path=found["path"])
    scheme = text.split("://", 1)[0] if "://" in text else ""
    if scheme and scheme not in SCHEMES:
        raise ValueError(
            f"{text!r}: unknown scheme {scheme!r}; use vault://, env:// or file:// ({EXAMPLES})"
        )
    raise ValueError(f"{text!r} is not a secret reference; write e.g. {EXAMPLES}")


def _check_reference(text: str) -> str:
    try:
        parse_reference(text)
    except ValueError as exc:
        raise PydanticCustomError("secret_reference", "{reason}", {"reason": str(exc)}) from None
    return text


SecretReferenceText = Annotated[
    str,
    AfterValidator(_check_reference),
    WithJsonSchema({"type": "string", "pattern": REFERENCE_PATTERN}),
]
"""A secret reference as written in `code.yaml`, checked at load."""
