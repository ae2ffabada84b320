"""`codectl policy test`: the Rego unit tests (`test_*` rules) of a directory, like `opa test`.

Every `.rego` file under the directories is loaded into one interpreter; each rule named
`test_*` in a `*_test.rego` file passes only when it is exactly `true`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import regopy
from regopy.rego_shared import (
    LogLevel,
    rego_bundle_query_entrypoint,
    rego_free_output,
    rego_output_ok,
    rego_output_string,
)

from code_engine.errors import Location
from code_engine.policy.lint import PACKAGE, static_problems
from code_engine.policy.model import Source, load_error
from code_engine.policy.rego import _location

TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True)
class TestResult:
    name: str
    passed: bool
    duration_ms: float
    detail: str = ""


def load(directories: Iterable[Path]) -> list[Source]:
    files = sorted({p for d in directories for p in ([d] if d.is_file() else d.rglob("*.rego"))})
    return [Source(str(p), p.read_text(encoding="utf-8")) for p in files]


def test_names(sources: Iterable[Source]) -> list[str]:
    names: list[str] = []
    for source in sources:
        package = PACKAGE.search(source.text)
        if source.name.endswith("_test.rego") and package is not None:
            rules = dict.fromkeys(TEST_RULE.findall(source.text))
            names.extend(f"{package.group(1)}.{rule}" for rule in rules)
    return names


def run(directories: Iterable[Path]) -> list[TestResult]:
    """Run every test rule; PolicyLoadError (file:line) when a file does not load."""
    directories = list(directories)
    sources = load(directories)
    if not sources:
        where = ", ".join(map(str, directories))
        raise load_error([Location(where, None, None, "", "no .rego files")])
    problems = static_problems(tuple(sources))
    if problems:
        raise load_error(problems)
    interpreter = regopy.Interpreter()
    interpreter.log_level = LogLevel.NONE  # errors are reported as file:line, not printed
    for source in sources:
        try:
            interpreter.add_module(source.name, source.text)
        except regopy.RegoError as exc:
            raise load_error([_location(str(exc), sources)]) from None
    names = test_names(sources)
    if not names:
        return []
    entrypoints = [name.replace(".", "/") for name in names]
    try:
        bundle = interpreter.build(None, entrypoints)
    except regopy.RegoError as exc:
        raise load_error([_location(str(exc), sources)]) from None
    interpreter.set_input_term("{}")
    pairs = zip(names, entrypoints, strict=True)
    return [_run_one(interpreter, bundle, name, entrypoint) for name, entrypoint in pairs]


def _run_one(
    interpreter: regopy.Interpreter, bundle: regopy.Bundle, name: str, entrypoint: str
) -> TestResult:
    started = time.perf_counter()
    impl = rego_bundle_query_entrypoint(interpreter._impl, bundle._impl, entrypoint)  # noqa: SLF001
    try:
        ok, output = bool(rego_output_ok(impl)), str(rego_output_string(impl))
    finally:
        rego_free_output(impl)
    elapsed = (time.perf_counter() - started) * 1000
    passed = ok and output.replace(" ", "") == '{"expressions":[true]}'
    detail = "" if passed else ("undefined" if output == "undefined" else output[:300])
    return TestResult(f"data.{name}", passed, elapsed, detail)
