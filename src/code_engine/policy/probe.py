"""Compile a policy set in a child process first: regopy (C++) can crash the whole process
on some combinations of modules, and a server must answer a refusal, not die.

`python -m code_engine.policy.probe` reads a set as JSON on stdin and compiles it; exit 0
means it compiled (or failed with a load error, which the parent reports itself), a signal
means regopy crashed on it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from code_engine.errors import UserError
from code_engine.policy.model import PolicySet, Source

PROBE_TIMEOUT_SECONDS = 60.0


def crashes(policy: PolicySet) -> str:
    """Why compiling `policy` kills a process ('' when it does not)."""
    payload = json.dumps(
        {
            "name": policy.name,
            "query": policy.query,
            "sources": [[s.name, s.text] for s in policy.sources],
        }
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
    from code_engine.policy.rego import compile_set

    data = json.loads(sys.stdin.read())
    sources = tuple(Source(name, text) for name, text in data["sources"])
    try:
        compile_set(PolicySet(data["name"], data["query"], sources))
    except UserError:
        return 2  # a load error: the parent compiles again and reports it with file:line
    return 0


if __name__ == "__main__":
    sys.exit(main())
