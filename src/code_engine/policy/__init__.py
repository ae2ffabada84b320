"""Policy as code: Rego policies (regopy, OPA's semantics) asked at every decision point."""

from __future__ import annotations

from code_engine.policy.gate import DEFAULT_GATE, Gate, Qualify, gate_for, unknown_qualification
from code_engine.policy.inputs import ACTIONS, Facts, build_input, input_hash, principal_of
from code_engine.policy.model import (
    Decision,
    PolicyDeniedError,
    PolicyLoadError,
    PolicySet,
    Source,
    Verdict,
)
from code_engine.policy.rego import Engine, compile_set
from code_engine.policy.sources import (
    check_sets,
    from_directory,
    from_tree,
    operator_sets,
    parse_paths,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_GATE",
    "Decision",
    "Engine",
    "Facts",
    "Gate",
    "PolicyDeniedError",
    "PolicyLoadError",
    "PolicySet",
    "Qualify",
    "Source",
    "Verdict",
    "build_input",
    "check_sets",
    "compile_set",
    "from_directory",
    "from_tree",
    "gate_for",
    "input_hash",
    "operator_sets",
    "parse_paths",
    "principal_of",
    "unknown_qualification",
]
