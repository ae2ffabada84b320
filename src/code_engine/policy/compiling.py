"""Compile policy sets with regopy (OPA's semantics) and read what a plan gives.

regopy compiles on every plain query (tens of milliseconds); sets are therefore built once
into a bundle with their queries as entrypoints, and a decision only sets the input and runs
the plans. Sets that may share an interpreter (policy/combine.py) are built into one bundle:
the input is then set once for all of them, each set keeping its own entrypoint, so its
messages, its errors and their file:line stay its own.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regopy
from regopy.rego_shared import (
    LogLevel,
    rego_bundle_query_entrypoint,
    rego_free_output,
    rego_output_ok,
    rego_output_string,
)

from code_engine.errors import Location
from code_engine.policy.lint import rule_defined, static_problems
from code_engine.policy.model import PolicySet, Source, Verdict, load_error

_ERROR_AT = re.compile(r"\(error \d+:(?P<file>[^|]*)\|(?P<offset>\d+)\|\d+")
_ERROR_MESSAGE = re.compile(r"\(errormsg \d+:(?P<message>[^)\n]*)")


@dataclass
class Compiled:
    """Policy sets ready to run in one interpreter; one evaluation at a time (`lock`).

    `fast_runs` counts the evaluations in a row that finished well within the time limit
    (the engine runs a set with such a record on the caller's thread)."""

    policies: tuple[PolicySet, ...]
    interpreter: regopy.Interpreter
    bundle: regopy.Bundle
    lock: threading.Lock
    fast_runs: int = 0

    @property
    def policy(self) -> PolicySet:
        """The first (for a bundle of one set, the only) set."""
        return self.policies[0]


def _location(error: str, sources: Iterable[Source]) -> Location:
    """The file:line of a regopy compile error (it reports a byte offset)."""
    texts = {source.name: source.text for source in sources}
    at, said = _ERROR_AT.search(error), _ERROR_MESSAGE.search(error)
    message = said.group("message") if said else error.strip().splitlines()[0]
    if at is None or at.group("file") not in texts:
        return Location(next(iter(texts), "?"), None, None, "", message)
    text = texts[at.group("file")].encode()[: int(at.group("offset"))].decode(errors="replace")
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return Location(at.group("file"), line, column, "", message)


def _static(policy: PolicySet) -> list[Location]:
    problems = static_problems(policy.sources)
    if not problems and not rule_defined(policy.sources, policy.query):
        where = policy.sources[0].name if policy.sources else policy.name
        problems = [Location(where, None, None, "", f"no rule {policy.query} in {policy.name}")]
    return problems


def compile_group(policies: Sequence[PolicySet]) -> Compiled:
    """Parse and plan sets into one interpreter and one bundle (one entrypoint per set);
    PolicyLoadError lists every problem with file:line."""
    problems = [problem for policy in policies for problem in _static(policy)]
    if problems:
        raise load_error(problems)
    sources = [source for policy in policies for source in policy.sources]
    interpreter = regopy.Interpreter()
    interpreter.log_level = LogLevel.NONE  # errors are reported as file:line, not printed
    interpreter.strict_built_in_errors = True  # a failing built-in refuses instead of passing
    for source in sources:
        try:
            interpreter.add_module(source.name, source.text)
        except regopy.RegoError as exc:
            raise load_error([_location(str(exc), sources)]) from None
    entrypoints = list(dict.fromkeys(policy.entrypoint for policy in policies))
    try:
        bundle = interpreter.build(None, entrypoints)
    except regopy.RegoError as exc:
        raise load_error([_location(str(exc), sources)]) from None
    return Compiled(tuple(policies), interpreter, bundle, threading.Lock())


def compile_set(policy: PolicySet) -> Compiled:
    """Parse and plan one policy set; PolicyLoadError lists every problem with file:line."""
    return compile_group([policy])


def set_input(compiled: Compiled, document: str) -> None:
    """The input of the next runs (JSON text); the caller holds `compiled.lock`."""
    compiled.interpreter.set_input_term(document)


def run(compiled: Compiled, policy: PolicySet) -> Verdict:
    """Run one set's plan on the input set last; the caller holds `compiled.lock`."""
    impl = rego_bundle_query_entrypoint(
        compiled.interpreter._impl,  # noqa: SLF001 - regopy's Output cannot report errors
        compiled.bundle._impl,  # noqa: SLF001
        policy.entrypoint,
    )
    try:
        ok, output = bool(rego_output_ok(impl)), str(rego_output_string(impl))
    finally:
        rego_free_output(impl)
    return interpret(policy, ok, output)


def interpret(policy: PolicySet, ok: bool, output: str) -> Verdict:
    """regopy's output as a verdict: a set of strings denies; anything else is an error."""
    name, query = policy.name, policy.query
    if not ok or output.startswith("(error") or output == "<error>":
        said = _ERROR_MESSAGE.search(output)
        reason = said.group("message") if said else "evaluation failed (conflicting values?)"
        return Verdict(name, query, error=f"{name}: {query}: {reason}")
    if output == "undefined":
        return Verdict(name, query)
    try:
        parsed = json.loads(output)
        results = parsed if isinstance(parsed, list) else [parsed]
        values = [value for result in results for value in result.get("expressions", [])]
    except (ValueError, AttributeError):
        return Verdict(name, query, error=f"{name}: {query}: unreadable result {output[:200]!r}")
    messages: list[str] = []
    for value in values:
        if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
            kind = type(value).__name__
            return Verdict(
                name,
                query,
                error=f"{name}: {query} gave a {kind}, expected a set of strings "
                "(write `deny contains msg if {...}`)",
            )
        messages.extend(value)
    return Verdict(name, query, messages=tuple(sorted(set(messages))))
