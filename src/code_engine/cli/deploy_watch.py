"""`--watch`: follow a deployment until it ends or waits for a person, with a live bar."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from code_engine.cli.output import console
from code_engine.errors import CheckFailedError

FINAL = ("succeeded", "failed", "rolled_back", "rejected")
Fetch = Callable[[], Mapping[str, Any]]


def describe(deployment: Mapping[str, Any]) -> str:
    """`progressing · step 2/4 analysis 3x1s · canary 20% · message`."""
    status = str(deployment.get("status", "?"))
    parts = [status]
    progress = deployment.get("progress") or {}
    if status in FINAL:
        progress = {}
    if progress.get("steps"):
        step = progress.get("current_step") or "promotion"
        parts.append(f"step {progress['step']}/{progress['steps']} {step}")
    if progress.get("application"):  # Kubernetes: what Argo CD reports
        parts.append(
            f"Argo CD {progress['application']} {progress.get('argocd') or 'not read yet'}"
        )
    elif progress:
        parts.append(f"{progress.get('canary')} at {progress.get('weight', 0)}%")
    if progress.get("preview_url"):
        parts.append(f"preview on {progress['preview_url']}")
    if deployment.get("message"):
        parts.append(str(deployment["message"]))
    return " · ".join(parts)


def _completed(deployment: Mapping[str, Any]) -> tuple[int, int]:
    progress = deployment.get("progress") or {}
    steps = int(progress.get("steps") or 0)
    total = steps + 2  # ready, the steps, 100%
    if deployment.get("status") in FINAL:
        return total, total
    phase = progress.get("phase")
    if phase == "starting":
        return 0, total
    if phase in ("promoting", "finalizing"):
        return total - 1, total
    return 1 + int(progress.get("step", 1)) - 1, total


def watch(fetch: Fetch, interval: float = 0.5, quiet: bool = False) -> Mapping[str, Any]:
    """Poll until the deployment is final or paused; show a progress bar unless `quiet`."""
    out = console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    deployment = fetch()
    with Progress(*columns, console=out, transient=False, disable=quiet) as bar:
        task = bar.add_task(escape(describe(deployment)), total=None)
        while True:
            done, total = _completed(deployment)
            bar.update(task, description=escape(describe(deployment)), completed=done, total=total)
            if deployment.get("status") in FINAL or deployment.get("status") == "paused":
                return deployment
            time.sleep(interval)
            deployment = fetch()


def outcome(deployment: Mapping[str, Any]) -> None:
    """Exit 0 on success or a planned pause; CheckFailedError (exit 1) otherwise."""
    status = deployment.get("status")
    progress = deployment.get("progress") or {}
    name = f"deployment {deployment.get('id')} of {deployment.get('version')}"
    if status == "succeeded":
        return
    if status == "paused" and progress.get("paused") != "inconclusive":
        console(stderr=True).print(
            f"{name} is paused: codectl resume {deployment.get('environment')} to go on"
        )
        return
    message = f"{name} is {status}: {deployment.get('message', '')}"
    needed = progress.get("traffic_needed") if status == "paused" else None
    if needed:  # an analysis without enough traffic: say how to give it some
        rate = max(1, math.ceil(float(needed["requests_per_second"]) * 1.2))
        seconds = max(10, math.ceil(float(needed["seconds"])))
        environment = deployment.get("environment")
        message += (
            f"\n  send traffic:  codectl load {environment} --rps {rate} --duration {seconds}s"
            f"\n  then resume:   codectl resume {environment}"
            f"\n  or give up:    codectl abort {environment}"
        )
    raise CheckFailedError(message)
