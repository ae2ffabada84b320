"""`codectl load ENV`: smoke traffic to an environment, so that its analysis can decide."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import typer

from code_engine.cli.client import ApiClient
from code_engine.cli.deploy_cmd import OUTPUT, SERVICE, SPEC, service_name
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, print_json, render_object
from code_engine.deploy.loadgen import LoadPlan, run_load
from code_engine.errors import NotFoundError, UserError
from code_engine.spec.duration import parse_duration


def register(app: typer.Typer) -> None:
    """Add the `load` command."""
    app.command("load")(load)


def load(
    environment: str = typer.Argument(..., help="Environment to send traffic to."),
    rps: float = typer.Option(20.0, "--rps", help="Requests per second (at most 1000)."),
    duration: str = typer.Option("1m", "--duration", "-d", help="How long, e.g. 30s or 2m."),
    path: str = typer.Option("/", "--path", help="Path of every request."),
    preview: bool = typer.Option(
        False, "--preview", help="Send to the preview port (a blue-green preview)."
    ),
    concurrency: int = typer.Option(64, "--concurrency", help="Requests in flight at most."),
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Send GET requests to ENVIRONMENT's router at a steady rate, then print what came back.

    Smoke traffic for staging, so that its analysis has enough requests to decide. Only
    the router of that environment on this machine is a target.
    """
    try:
        seconds = parse_duration(duration).total_seconds()
    except ValueError as exc:
        raise UserError(f"--duration: {exc}") from None
    if not path.startswith("/"):
        raise UserError(f"--path must start with '/', got {path!r}")
    name = service_name(service, spec)
    rows = ApiClient(server).get(
        "/api/v1/deployments/status", service=name, environment=environment
    )
    url = _url(rows, name, environment, preview)
    plan = LoadPlan(url.rstrip("/") + path, rps, seconds, concurrency)
    out = console(stderr=True)
    out.print(f"sending {plan.total} requests to {plan.url} over {seconds:g} s", highlight=False)
    stop = threading.Event()
    try:
        result = run_load(plan, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    summary = {"url": plan.url, **result.summary()}
    if output is OutputFormat.json:
        print_json(summary)
    else:
        render_object(summary, output)


def _url(rows: list[dict[str, Any]], service: str, environment: str, preview: bool) -> str:
    row = next((r for r in rows if r.get("environment") == environment), None)
    if row is None:
        raise NotFoundError(f"service {service} has no environment {environment!r}")
    active = row.get("active") or {}
    progress = active.get("progress") or {}
    url = progress.get("preview_url") if preview else row.get("url")
    if not url:
        what = "no blue-green preview runs" if preview else "nothing was deployed there yet"
        raise UserError(f"no router to send traffic to in {environment}: {what}")
    return str(url)
