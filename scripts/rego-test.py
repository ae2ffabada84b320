#!/usr/bin/env python3
"""Runs the Rego unit tests of policies/ with regopy, the way `opa test` would.

Every `*.rego` file is loaded into one interpreter; each rule named `test_*` in a
`*_test.rego` file is queried as `data.<package>.<rule>` and passes only when it is exactly
`true`. Policies written in the pre-v1 syntax (`deny[msg] { ... }`) are rejected first:
regopy would otherwise read them as something else without an error.

Usage: scripts/rego-test.py [DIR ...]   (default: policies)
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import regopy

PACKAGE = re.compile(r"^package\s+([\w.]+)\s*$", re.MULTILINE)
TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)
# A rule head followed straight by a body, with no `if` or `contains`: the v0 form.
V0_RULE = re.compile(r"^(?!default\b)([A-Za-z_]\w*)(\[[^\]]*\])?(\s*=\s*[^{]+?)?\s*\{\s*$")


@dataclass(frozen=True)
class Result:
    name: str
    passed: bool
    detail: str = ""


def v0_syntax_errors(path: Path, source: str) -> list[str]:
    """Lines written in the pre-v1 rule syntax, as `file:line: message`."""
    return [
        f"{path}:{number}: Rego v0 rule syntax; write `name contains x if {{` or `name if {{`"
        for number, line in enumerate(source.splitlines(), start=1)
        if V0_RULE.match(line)
    ]


def run_test(interpreter: regopy.Interpreter, name: str) -> Result:
    """Queries one test rule; it passes only when its value is exactly `true`."""
    try:
        output = interpreter.query(name)
    except Exception as exc:  # noqa: BLE001 - regopy raises whatever its JSON decoding meets
        return Result(name, False, f"query failed: {exc}")
    if not output.ok():
        # Printing a failed Output crashes regopy 1.5; the message is on the interpreter.
        return Result(name, False, error_message(interpreter))
    # An undefined rule yields one result without expressions: never index into it.
    values = [expr for result in output.results for expr in result.expressions]
    passed = values == [True]
    return Result(name, passed, "" if passed else f"got {values or 'undefined'}")


def error_message(interpreter: regopy.Interpreter) -> str:
    try:
        from regopy.rego_shared import rego_get_error

        return str(rego_get_error(interpreter._impl))
    except Exception:  # noqa: BLE001 - best effort: the failure itself is already reported
        return "evaluation error"


def run(directories: list[Path]) -> tuple[list[Result], list[str]]:
    """Loads every policy and runs every test rule; returns results and load errors."""
    files = sorted(p for d in directories for p in d.rglob("*.rego"))
    errors: list[str] = []
    interpreter = regopy.Interpreter()
    sources = {path: path.read_text(encoding="utf-8") for path in files}
    for path, source in sources.items():
        errors.extend(v0_syntax_errors(path, source))
        try:
            interpreter.add_module(str(path), source)
        except regopy.RegoError as exc:
            errors.append(f"{path}: {exc}")
    if errors:
        return [], errors

    results = []
    for path, source in sources.items():
        if not path.name.endswith("_test.rego"):
            continue
        package = PACKAGE.search(source)
        if package is None:
            errors.append(f"{path}: no package declaration")
            continue
        for rule in dict.fromkeys(TEST_RULE.findall(source)):
            name = f"data.{package.group(1)}.{rule}"
            results.append(run_test(interpreter, name))
    if not files:
        errors.append(f"no .rego files under {', '.join(map(str, directories))}")
    return results, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="*", type=Path, default=[Path("policies")])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every test")
    args = parser.parse_args(argv)

    results, errors = run(args.directories)
    for error in errors:
        sys.stderr.write(f"ERROR {error}\n")
    for result in results:
        if args.verbose or not result.passed:
            status = "PASS" if result.passed else "FAIL"
            detail = f": {result.detail}" if result.detail else ""
            sys.stdout.write(f"{status} {result.name}{detail}\n")
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    sys.stdout.write(f"rego: {passed} passed, {failed} failed\n")
    return 1 if errors or failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
