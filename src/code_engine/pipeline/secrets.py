"""The secret scan: detect-secrets over the work tree, less what its baseline accepts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from code_engine.pipeline.tools import resolve

BASELINE = ".secrets.baseline"


class SecretScanError(RuntimeError):
    """detect-secrets is missing or did not answer with its JSON."""


def scan_secrets(repo: Path, baseline: Path | None = None) -> dict[str, object]:
    """New secrets (not in the baseline) by file and line, as the report of the step."""
    tool = resolve("detect-secrets", repo)
    if tool is None:
        raise SecretScanError("detect-secrets not found in .venv/bin or on PATH")
    argv = [tool, "scan"]
    done = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        found = json.loads(done.stdout)["results"]
    except (ValueError, KeyError, TypeError):
        raise SecretScanError(f"detect-secrets scan failed: {done.stderr.strip()}") from None
    baseline = baseline if baseline is not None else repo / BASELINE
    accepted: set[tuple[str, str]] = set()
    if baseline.is_file():
        try:
            known = json.loads(baseline.read_text(encoding="utf-8"))["results"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SecretScanError(f"{baseline}: not a detect-secrets baseline ({exc})") from None
        accepted = {(f, s["hashed_secret"]) for f, items in known.items() for s in items}
    results = [
        {"file": name, "line": item.get("line_number"), "type": item.get("type")}
        for name, items in sorted(found.items())
        for item in items
        if (name, item.get("hashed_secret")) not in accepted
    ]
    return {"tool": "detect-secrets", "baseline": str(baseline) if baseline.is_file() else None,
            "results": results}  # fmt: skip
