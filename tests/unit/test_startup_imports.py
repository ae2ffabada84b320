"""The server and the worker start without jsonschema: it is imported where a document is
validated (assessment reports, Kubernetes manifests, ExternalSecrets), not at start, where
loading its format checkers cost every process a second or two of CPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import importlib, sys
importlib.import_module(sys.argv[1])
print("loaded=" + ",".join(m for m in ("jsonschema", "rfc3987_syntax") if m in sys.modules))
"""


@pytest.mark.parametrize("module", ["code_engine.server", "code_engine.cli.worker_cmd"])
def test_starting_imports_no_jsonschema(module: str) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed probe
        [sys.executable, "-c", PROBE, module],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "loaded=", done.stdout
