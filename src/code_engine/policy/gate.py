"""The decision hook of every action: build the input, ask every policy set, record the
decision, refuse with the messages. Small and injectable: callers hold a `Gate`."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from code_engine.policy.decisions import Subject, record
from code_engine.policy.inputs import Facts, build_input, input_hash
from code_engine.policy.model import Decision, PolicyDeniedError, PolicySet, Verdict
from code_engine.policy.rego import Engine

# The pipeline's verdict on a release (service, version, commit) -> qualification or None.
Qualify = Callable[[str, str, str], "dict[str, Any] | None"]


def unknown_qualification(_service: str, _version: str, _commit: str) -> dict[str, Any] | None:
    """No pipeline verdict yet: policies see `{"status": "unknown"}`."""
    return None


_DEFAULT_ENGINE = Engine()


class Gate:
    """Operator-wide policy sets plus, per call, the service's own."""

    def __init__(
        self,
        operator: Sequence[PolicySet] | Callable[[], Sequence[PolicySet]] = (),
        *,
        engine: Engine | None = None,
        qualify: Qualify = unknown_qualification,
    ) -> None:
        self._operator = operator
        self.engine = engine or _DEFAULT_ENGINE
        self.qualify = qualify

    def operator_sets(self) -> list[PolicySet]:
        operator = self._operator
        return list(operator() if callable(operator) else operator)

    def decide(self, facts: Facts, service_sets: Sequence[PolicySet] = ()) -> Decision:
        """Evaluate every set on the input of `facts` (no record, no refusal)."""
        document = build_input(facts)
        started = time.perf_counter()
        verdicts = self.engine.evaluate_all([*self.operator_sets(), *service_sets], document)
        elapsed = (time.perf_counter() - started) * 1000
        return Decision(facts.action, verdicts, input_hash(document), elapsed, document)

    def enforce(
        self,
        session: Session,
        facts: Facts,
        service_sets: Sequence[PolicySet] = (),
        resource: str = "",
    ) -> Decision:
        """Decide, record, and raise PolicyDeniedError unless allowed."""
        try:
            decision = self.decide(facts, service_sets)
        except Exception as exc:  # noqa: BLE001 - e.g. operator files gone: refuse, say why
            verdict = Verdict("policies", "-", error=f"cannot evaluate policies: {exc}")
            decision = Decision(facts.action, (verdict,), "", 0.0)
        if not decision.verdicts:
            return decision  # no policy at all: nothing to decide or record
        subject = Subject(
            principal=str(facts.principal.get("id", "")),
            service=(facts.service or {}).get("name"),
            environment=(facts.environment or {}).get("name"),
            version=(facts.release or {}).get("version"),
            resource=resource,
        )
        decision_id = record(session, decision, subject, facts.now)
        if not decision.allowed:
            raise PolicyDeniedError(decision, decision_id)
        return decision


# The service's own policies only: what a caller without operator settings gets.
DEFAULT_GATE = Gate()


@functools.cache
def gate_for(paths: str, timeout_seconds: float) -> Gate:
    """The gate of a server's settings: operator files are read at each decision (compiled
    once per content), so an edit applies without a restart."""
    from code_engine.policy.sources import operator_sets

    return Gate(lambda: operator_sets(paths), engine=Engine(timeout_seconds))
