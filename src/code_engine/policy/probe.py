"""Compile policy sets in a child process first: regopy (C++) can crash the whole process
on some combinations of modules, and a server must answer a refusal, not die.

`python -m code_engine.policy.probe` reads sets as JSON on stdin and compiles them together
(as the engine will, policy/compiling.py); the engine runs it once per new content, not per
decision. Exit 0 means they compiled (or failed with a load error, which the parent reports
itself), a signal means regopy crashed on them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

from code_engine.errors import UserError
from code_engine.policy.model import PolicySet, Source

PROBE_TIMEOUT_SECONDS = 60.0


def crashes(policies: PolicySet | Sequence[PolicySet]) -> str:
    """Why compiling `policies` (one set, or sets into one bundle) kills a process ('' when
    it does not)."""
    sets = [policies] if isinstance(policies, PolicySet) else list(policies)
    payload = json.dumps(
        [
            {
                "name": policy.name,
                "query": policy.query,
                "sources": [[s.name, s.text] for s in policy.sources],
            }
            for policy in sets
        ]
    )
    try:
        result = subprocess.run(  # noqa: S603 - this interpreter, a fixed module
            [sys.executable, "-m", "code_engine.policy.probe"],
            input=payload,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"compiling took over {PROBE_TIMEOUT_SECONDS:g}s"
    if result.returncode < 0:
        return f"the Rego engine crashed compiling it (signal {-result.returncode})"
    return ""


def main() -> int:
    from code_engine.policy.compiling import compile_group

    data = json.loads(sys.stdin.read())
    sets = [
        PolicySet(item["name"], item["query"], tuple(Source(n, t) for n, t in item["sources"]))
        for item in (data if isinstance(data, list) else [data])
    ]
    try:
        compile_group(sets)
    except UserError:
        return 2  # a load error: the parent compiles again and reports it with file:line
    return 0


if __name__ == "__main__":
    sys.exit(main())
