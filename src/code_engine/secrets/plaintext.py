"""Plain `env:` values of `code.yaml` that look like secrets, and how to move them.

Three signs, any one is enough: a known key format (detect-secrets' regex detectors: AWS,
GitHub, GitLab, Slack, Stripe, private keys, JWTs, ...), a long high-entropy string, or a name
like `*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `*_KEY` holding a value that is not a number, a
boolean or a template. The finding names the variable and the sign, never the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

from code_engine.spec import LocalTarget, ServiceSpec

SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|TOKEN|SECRET|KEY|API_KEY|PRIVATE_KEY|CREDENTIALS?)$",
    re.IGNORECASE,
)
HARMLESS = re.compile(r"^(\d+(\.\d+)?|true|false|yes|no|on|off|none|null|)$", re.IGNORECASE)
MIN_ENTROPY_LENGTH = 20
ENTROPY_BITS = 4.0  # per character, as detect-secrets' base64 plugin says
HEX_ENTROPY_BITS = 3.0  # hex has 16 symbols: 4 bits at most
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")  # base64 and base64url: keys, not URLs
HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class PlainSecret:
    """A plain env value of environment `environment` that looks like a secret."""

    environment: str
    environment_index: int
    name: str
    sign: str

    @property
    def field(self) -> tuple[Any, ...]:
        return ("environments", self.environment_index, "target", "env", self.name)

    @property
    def advice(self) -> str:
        reference = f"vault://secret/{self.environment}/{self.name.lower()}#value"
        return (
            f"{self.name} looks like a secret ({self.sign}); plain env values are committed "
            f"with code.yaml. Put the value in a secret store and reference it instead: "
            f"move {self.name} from env: to the environment's secrets:, e.g. "
            f"`secrets: {{{self.name}: {reference}}}` (see docs/secrets.md)"
        )


def find_plain_secrets(spec: ServiceSpec) -> list[PlainSecret]:
    """Every plain env value of a local target that looks like a secret."""
    found = []
    for index, environment in enumerate(spec.environments):
        target = environment.target
        if not isinstance(target, LocalTarget):
            continue
        for name, value in target.env.items():
            sign = secret_sign(name, value)
            if sign is not None:
                found.append(PlainSecret(environment.name, index, name, sign))
    return found


def secret_sign(name: str, value: str) -> str | None:
    """Why `value` (of variable `name`) looks like a secret, or None."""
    if "{" in value and "}" in value:
        return None  # a template such as {port} or {python}: filled in by CODE
    for kind, pattern in _known_formats():
        if pattern.search(value):
            return f"it matches the format of a {kind}"
    if len(value) >= MIN_ENTROPY_LENGTH and TOKEN_CHARS.match(value):
        bits = entropy(value)
        if bits >= (HEX_ENTROPY_BITS if HEX.match(value) else ENTROPY_BITS):
            return f"a high-entropy string ({bits:.1f} bits per character)"
    if SECRET_NAME.search(name) and not HARMLESS.match(value.strip()):
        return f"its name ends in {SECRET_NAME.search(name)[2].upper()}"  # type: ignore[index]
    return None


def entropy(value: str) -> float:
    """Shannon entropy of `value` in bits per character."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


@cache
def _known_formats() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """detect-secrets' regex detectors (known key formats), by the secret type they find."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    skipped = {"Public IP (ipv4)"}  # an address is no secret
    formats: list[tuple[str, re.Pattern[str]]] = []
    mapping: dict[str, Any] = get_mapping_from_secret_type_to_class()
    for kind, plugin in sorted(mapping.items()):
        if isinstance(plugin, type) and issubclass(plugin, RegexBasedDetector):
            if kind in skipped:
                continue
            formats.extend((kind, pattern) for pattern in plugin().denylist)
    return tuple(formats)
