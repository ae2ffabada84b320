"""The Rego engine (regopy, OPA's semantics): policy sets compiled once, evaluated fast and
bounded in time.

A decision's sets are split into groups that may share an interpreter (policy/combine.py);
each group is compiled once per content into one bundle (policy/compiling.py), after a child
process compiled it first (policy/probe.py: regopy can crash a process on some modules), and
every decision then sets the input once per group and runs each set's plan.

Where a group runs: regopy cannot be interrupted, so a group runs on an evaluation thread
whose answer is awaited `timeout_seconds` per set; a set still running then refuses (fail
closed). A group that finished well within its time (`FAST_SHARE` of it) `TRUSTED_AFTER`
times in a row runs on the caller's thread instead, which spares the hand-over to the thread;
a set that then takes longer than its time still refuses, and its group goes back to the
thread until it is fast again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from code_engine.errors import Location
from code_engine.policy.combine import groups
from code_engine.policy.compiling import (
    Compiled,
    _location,
    compile_group,
    compile_set,
    interpret,
    run,
    set_input,
)
from code_engine.policy.model import PolicySet, Verdict, load_error

__all__ = ["Compiled", "Engine", "_location", "compile_set", "interpret"]

CACHE_SIZE = 64
TRUSTED_AFTER = 3  # fast evaluations in a row before a group runs on the caller's thread
FAST_SHARE = 0.1  # "fast": within this share of the time limit

# (position in the group, verdict, milliseconds) of each set a run finished
Finished = list[tuple[int, Verdict, float]]


@functools.lru_cache(maxsize=256)
def _key(policy: PolicySet) -> str:
    digest = hashlib.sha256(policy.query.encode())
    for source in policy.sources:
        digest.update(b"\0" + source.name.encode() + b"\0" + source.text.encode())
    return digest.hexdigest()


def _group_key(policies: Sequence[PolicySet]) -> str:
    if len(policies) == 1:
        return _key(policies[0])
    return hashlib.sha256("\0".join(_key(p) for p in policies).encode()).hexdigest()


def _run_held(compiled: Compiled, document: str, finished: Finished) -> None:
    """Every set of the group on one input (the caller holds the group's lock); the caller
    may read `finished` as it grows."""
    set_input(compiled, document)
    for position, policy in enumerate(compiled.policies):
        started = time.perf_counter()
        verdict = run(compiled, policy)
        finished.append((position, verdict, (time.perf_counter() - started) * 1000))


def _run_group(compiled: Compiled, document: str, finished: Finished) -> None:
    with compiled.lock:
        _run_held(compiled, document, finished)


class Engine:
    """Compiled policy groups by content, and evaluation bounded in time."""

    def __init__(self, timeout_seconds: float = 1.0, workers: int = 4, probe: bool = True) -> None:
        self.timeout_seconds = timeout_seconds
        self.probe = probe  # compile new content in a child first (policy/probe.py)
        self._cache: OrderedDict[str, Compiled] = OrderedDict()
        self._guard = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rego")

    def compiled(self, policy: PolicySet) -> Compiled:
        """One set compiled on its own (cached by content)."""
        return self._compiled((policy,))

    def _compiled(self, policies: tuple[PolicySet, ...]) -> Compiled:
        key = _group_key(policies)
        with self._guard:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        if self.probe:
            from code_engine.policy import probe

            reason = probe.crashes(policies[0] if len(policies) == 1 else policies)
            if reason:
                first = policies[0]
                where = first.sources[0].name if first.sources else first.name
                raise load_error([Location(where, None, None, "", reason)])
        compiled = compile_group(policies)
        with self._guard:
            self._cache[key] = compiled
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return compiled

    def _forget(self, compiled: Compiled) -> None:
        with self._guard:
            self._cache.pop(_group_key(compiled.policies), None)

    def evaluate(self, policy: PolicySet, document: dict[str, Any]) -> Verdict:
        """The deny messages of one set for `document`; an error (fail closed) when it does
        not compile, fails, gives something other than strings, or runs out of time."""
        return self.evaluate_all([policy], document)[0]

    def _plan(
        self, policies: Sequence[PolicySet], verdicts: list[Verdict | None]
    ) -> list[tuple[list[int], Compiled]]:
        """The compiled groups of `policies` (indexes into it). A group that does not compile
        (or crashes the probe) is compiled set by set instead, so that the refusal names the
        set at fault: such a set gets its error verdict."""
        plan: list[tuple[list[int], Compiled]] = []
        for indexes in groups(policies):
            if len(indexes) > 1:
                together = self._try(tuple(policies[i] for i in indexes))
                if isinstance(together, Compiled):
                    plan.append((indexes, together))
                    continue
            for index in indexes:
                alone = self._try((policies[index],))
                if isinstance(alone, Compiled):
                    plan.append(([index], alone))
                else:
                    verdicts[index] = alone
        return plan

    def _try(self, policies: tuple[PolicySet, ...]) -> Compiled | Verdict:
        """The compiled group, or the error verdict of its first set."""
        try:
            return self._compiled(policies)
        except Exception as exc:  # noqa: BLE001 - any failure refuses, with its text
            first = policies[0]
            return Verdict(first.name, first.query, error=f"{first.name}: {exc}")

    def evaluate_all(
        self, policies: Sequence[PolicySet], document: dict[str, Any]
    ) -> tuple[Verdict, ...]:
        """Every set on one document, in the order given; each set has `timeout_seconds`,
        and a set that fails to load, fails, or runs out of time refuses (an error verdict
        naming it)."""
        verdicts: list[Verdict | None] = [None] * len(policies)
        plan = self._plan(policies, verdicts)
        text = json.dumps(document) if plan else ""
        for indexes, compiled in plan:
            for position, verdict in enumerate(self._evaluate_group(compiled, text)):
                verdicts[indexes[position]] = verdict
        return tuple(v for v in verdicts if v is not None)

    def _evaluate_group(self, compiled: Compiled, document: str) -> list[Verdict]:
        finished: Finished = []
        if compiled.fast_runs >= TRUSTED_AFTER:
            if compiled.lock.acquire(timeout=self.timeout_seconds):
                try:
                    _run_held(compiled, document, finished)
                finally:
                    compiled.lock.release()
        else:
            future = self._pool.submit(_run_group, compiled, document, finished)
            try:
                future.result(timeout=self.timeout_seconds * len(compiled.policies))
            except FutureTimeout:
                pass
        return self._verdicts(compiled, finished.copy())  # the worker may still append

    def _verdicts(self, compiled: Compiled, finished: Finished) -> list[Verdict]:
        limit_ms = self.timeout_seconds * 1000
        done = {position: (verdict, ms) for position, verdict, ms in finished}
        verdicts = []
        fast = len(done) == len(compiled.policies)
        for position, policy in enumerate(compiled.policies):
            verdict, ms = done.get(position, (None, limit_ms + 1))
            fast = fast and ms <= limit_ms * FAST_SHARE
            if verdict is None or ms > limit_ms:
                limit = f"{self.timeout_seconds:g}s"
                verdict = Verdict(
                    policy.name, policy.query, error=f"{policy.name}: timed out after {limit}"
                )
            verdicts.append(verdict)
        if len(done) < len(compiled.policies):
            # its interpreter is still busy: the next decision builds another
            self._forget(compiled)
        compiled.fast_runs = compiled.fast_runs + 1 if fast else 0
        return verdicts
