"""The Rego engine (regopy, OPA's semantics): compile a policy set once, evaluate it fast.

regopy compiles on every plain query (tens of milliseconds); a policy set is therefore built
once into a bundle with its query as entrypoint, cached by content, and each decision only
sets the input and runs the plan (well under a millisecond).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

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

CACHE_SIZE = 64
_ERROR_AT = re.compile(r"\(error \d+:(?P<file>[^|]*)\|(?P<offset>\d+)\|\d+")
_ERROR_MESSAGE = re.compile(r"\(errormsg \d+:(?P<message>[^)\n]*)")


@dataclass
class Compiled:
    """A policy set ready to run; one evaluation at a time per interpreter."""

    policy: PolicySet
    interpreter: regopy.Interpreter
    bundle: regopy.Bundle
    lock: threading.Lock


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


def compile_set(policy: PolicySet) -> Compiled:
    """Parse and plan one policy set; PolicyLoadError lists every problem with file:line."""
    problems = static_problems(policy.sources)
    if not problems and not rule_defined(policy.sources, policy.query):
        where = policy.sources[0].name if policy.sources else policy.name
        problems = [Location(where, None, None, "", f"no rule {policy.query} in {policy.name}")]
    if problems:
        raise load_error(problems)
    interpreter = regopy.Interpreter()
    interpreter.log_level = LogLevel.NONE  # errors are reported as file:line, not printed
    interpreter.strict_built_in_errors = True  # a failing built-in refuses instead of passing
    for source in policy.sources:
        try:
            interpreter.add_module(source.name, source.text)
        except regopy.RegoError as exc:
            raise load_error([_location(str(exc), policy.sources)]) from None
    try:
        bundle = interpreter.build(None, [policy.entrypoint])
    except regopy.RegoError as exc:
        raise load_error([_location(str(exc), policy.sources)]) from None
    return Compiled(policy, interpreter, bundle, threading.Lock())


def _key(policy: PolicySet) -> str:
    digest = hashlib.sha256(policy.query.encode())
    for source in policy.sources:
        digest.update(b"\0" + source.name.encode() + b"\0" + source.text.encode())
    return digest.hexdigest()


class Engine:
    """Compiled policy sets by content, and evaluation bounded in time."""

    def __init__(self, timeout_seconds: float = 1.0, workers: int = 4, probe: bool = True) -> None:
        self.timeout_seconds = timeout_seconds
        self.probe = probe  # compile new content in a child first (policy/probe.py)
        self._cache: OrderedDict[str, Compiled] = OrderedDict()
        self._guard = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rego")

    def compiled(self, policy: PolicySet) -> Compiled:
        key = _key(policy)
        with self._guard:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        if self.probe:
            from code_engine.policy.probe import crashes

            reason = crashes(policy)
            if reason:
                where = policy.sources[0].name if policy.sources else policy.name
                raise load_error([Location(where, None, None, "", reason)])
        compiled = compile_set(policy)
        with self._guard:
            self._cache[key] = compiled
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return compiled

    def _forget(self, policy: PolicySet) -> None:
        with self._guard:
            self._cache.pop(_key(policy), None)

    def evaluate(self, policy: PolicySet, document: dict[str, Any]) -> Verdict:
        """The deny messages of one set for `document`; an error (fail closed) when it does
        not compile, fails, gives something other than strings, or runs out of time."""
        try:
            compiled = self.compiled(policy)
        except Exception as exc:  # noqa: BLE001 - any failure refuses, with its text
            return Verdict(policy.name, policy.query, error=f"{policy.name}: {exc}")
        text = json.dumps(document)
        future = self._pool.submit(_run, compiled, text)
        try:
            return future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            # the interpreter is still busy: it is dropped, the next decision builds another
            self._forget(policy)
            limit = f"{self.timeout_seconds:g}s"
            return Verdict(
                policy.name, policy.query, error=f"{policy.name}: timed out after {limit}"
            )

    def evaluate_all(
        self, policies: Sequence[PolicySet], document: dict[str, Any]
    ) -> tuple[Verdict, ...]:
        """Every set on one document, in one hop to the evaluation thread (the hop costs more
        than a plan's run); each set has `timeout_seconds`, a set still running when its
        time is up refuses, and so does every set after it."""
        verdicts: list[Verdict | None] = [None] * len(policies)
        runnable: list[tuple[int, Compiled]] = []
        for index, policy in enumerate(policies):
            try:
                runnable.append((index, self.compiled(policy)))
            except Exception as exc:  # noqa: BLE001 - any failure refuses, with its text
                verdicts[index] = Verdict(policy.name, policy.query, error=f"{policy.name}: {exc}")
        if runnable:
            text = json.dumps(document)
            done: list[tuple[int, Verdict]] = []

            def work() -> None:
                for index, compiled in runnable:
                    done.append((index, _run(compiled, text)))

            future = self._pool.submit(work)
            try:
                future.result(timeout=self.timeout_seconds * len(runnable))
            except FutureTimeout:
                pass
            for index, verdict in done.copy():  # the worker may still append
                verdicts[index] = verdict
            limit = f"{self.timeout_seconds:g}s"
            for index, compiled in runnable:
                if verdicts[index] is None:
                    self._forget(compiled.policy)
                    name = compiled.policy.name
                    error = f"{name}: timed out after {limit}"
                    verdicts[index] = Verdict(name, compiled.policy.query, error=error)
        return tuple(v for v in verdicts if v is not None)


def _run(compiled: Compiled, document: str) -> Verdict:
    policy = compiled.policy
    with compiled.lock:
        compiled.interpreter.set_input_term(document)
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
