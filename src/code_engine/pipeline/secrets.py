"""The secret scan: detect-secrets over the work tree, less what its baseline accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from code_engine.pipeline.tools import resolve

BASELINE = ".secrets.baseline"


class SecretScanError(RuntimeError):
    """detect-secrets is missing or did not answer with its JSON."""


def scan_secrets(repo: Path, baseline: Path | None = None) -> dict[str, object]:
    """New secrets (not in the baseline) by file and line, as the report of the step.

    With a baseline, the scan runs with the baseline's own plugins and filters (on a copy of
    it, so the file in the repository is never rewritten), as `detect-secrets-hook` would.
    """
    tool = resolve("detect-secrets", repo)
    if tool is None:
        raise SecretScanError("detect-secrets not found in .venv/bin or on PATH")
    baseline = baseline if baseline is not None else repo / BASELINE
    accepted: set[tuple[str, str]] = set()
    if baseline.is_file():
        accepted = _pairs(_results(_load(baseline), baseline))
        with tempfile.TemporaryDirectory(prefix="code-secrets-") as tmp:
            copy = Path(tmp) / "baseline.json"
            shutil.copyfile(baseline, copy)
            _run(tool, repo, ["scan", "--baseline", str(copy)])
            found = _results(_load(copy), baseline)
    else:
        found = _results(_parse(_run(tool, repo, ["scan"])), baseline)
    results = [
        {"file": name, "line": item.get("line_number"), "type": item.get("type")}
        for name, items in sorted(found.items())
        for item in items
        if (name, item.get("hashed_secret")) not in accepted
    ]
    shown = baseline.relative_to(repo) if baseline.is_relative_to(repo) else baseline
    return {"tool": "detect-secrets", "baseline": str(shown) if baseline.is_file() else None,
            "results": results}  # fmt: skip


def _run(tool: str, repo: Path, args: list[str]) -> str:
    argv = [tool, *args]
    done = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SecretScanError(f"detect-secrets {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise SecretScanError("detect-secrets did not print its JSON report") from None


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SecretScanError(f"{path}: not a detect-secrets baseline ({exc})") from None


def _results(data: Any, where: Path) -> dict[str, list[dict[str, Any]]]:
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise SecretScanError(f"{where}: not a detect-secrets baseline (no results)")
    return results


def _pairs(results: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    return {
        (name, str(item.get("hashed_secret"))) for name, items in results.items() for item in items
    }
