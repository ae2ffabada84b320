"""What the policy capability works with: Rego sources, bundles of them, and decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from code_engine.errors import CheckFailedError, InvalidFileError, Location


@dataclass(frozen=True)
class Source:
    """One `.rego` file: `name` is how messages cite it (a path, or `path@commit`)."""

    name: str
    text: str


@dataclass(frozen=True)
class PolicySet:
    """The files of one bundle and the rule whose messages refuse an action."""

    name: str  # the bundle's path as configured, e.g. `policies/`
    query: str  # `data.code.deploy_gate.deny`
    sources: tuple[Source, ...]
    origin: str = "service"  # `service` (code.yaml) or `operator` (CODE_POLICY_PATHS)

    @property
    def entrypoint(self) -> str:
        """The query as regopy's entrypoint: `code/deploy_gate/deny`."""
        return self.query.removeprefix("data.").replace(".", "/")


@dataclass(frozen=True)
class Verdict:
    """What one policy set said: its deny messages, or why it could not say (an error)."""

    policy: str
    query: str
    messages: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Decision:
    """The decision on one action: allowed only when no set denied and none failed."""

    action: str
    verdicts: tuple[Verdict, ...]
    input_hash: str
    duration_ms: float
    input: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def allowed(self) -> bool:
        return not any(v.messages or v.error for v in self.verdicts)

    @property
    def messages(self) -> list[str]:
        """Deny messages first, then evaluation errors (each refuses: fail closed)."""
        denied = [m for v in self.verdicts for m in v.messages]
        return denied + [v.error for v in self.verdicts if v.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "allowed": self.allowed,
            "messages": self.messages,
            "policies": [
                {
                    "policy": v.policy,
                    "query": v.query,
                    "messages": list(v.messages),
                    "error": v.error or None,
                }
                for v in self.verdicts
            ],
            "input_hash": self.input_hash,
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(frozen=True)
class Refusal:
    """One line of a refusal: the policy that said it, and what it said."""

    field: str
    message: str


class PolicyDeniedError(CheckFailedError):
    """A policy refused the action (HTTP 403, exit code 1); `problems` carries its messages."""

    def __init__(self, decision: Decision, decision_id: int | None = None) -> None:
        self.decision = decision
        self.decision_id = decision_id
        self.problems = [
            Refusal(v.policy, message)
            for v in decision.verdicts
            for message in (*v.messages, *([_own(v)] if v.error else []))
        ]
        self.summary = f"{decision.action} refused by policy"
        super().__init__(
            self.summary + "".join(f"\n  {p.field}: {p.message}" for p in self.problems)
        )


def _own(verdict: Verdict) -> str:
    """An error without its policy's name in front: the refusal line names it already."""
    return verdict.error.removeprefix(f"{verdict.policy}: ")


class PolicyLoadError(InvalidFileError):
    """Rego that does not parse or names an unknown function: one location per problem."""


def load_error(problems: list[Location]) -> PolicyLoadError:
    return PolicyLoadError(problems=problems)
