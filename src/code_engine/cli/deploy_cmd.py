"""`codectl deploy|promote|rollback|status|watch|history|approve|reject|pause|resume|abort`:
progressive delivery through the API (server and token from `codectl login`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from code_engine.cli.client import ApiClient
from code_engine.cli.deploy_status import service_names, status_view
from code_engine.cli.deploy_watch import outcome, watch
from code_engine.cli.dr_cmd import recovery_warning
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, print_json, render_object, render_rows
from code_engine.errors import UserError
from code_engine.spec import SPEC_FILENAME, load_spec

OUTPUT = typer.Option(
    OutputFormat.table, "--output", "-o", help="table (80 columns), wide (every column) or json."
)
SERVICE = typer.Option(None, "--service", "-s", help="Service name [default: the one in --spec].")
SPEC = typer.Option(SPEC_FILENAME, "--spec", "-f", help="code.yaml naming the service.")
WATCH = typer.Option(False, "--watch", "-w", help="Follow the rollout until it ends.")
SUMMARY = ("id", "service", "environment", "version", "status", "strategy", "trigger", "message")
HISTORY = (
    "id",
    "version",
    "status",
    "trigger",
    "strategy",
    "created_by",
    "reviewed_by",
    "finished_at",
    "message",
)
HISTORY_NARROW = ("id", "version", "status", "finished_at", "message")
STATUS = ("environment", "version", "url", "rolling out")
AWAITING = "awaiting_approval"


def service_name(service: str | None, spec: Path) -> str:
    if service:
        return service
    if not spec.is_file():
        raise UserError(f"no {spec}: give --service NAME or --spec PATH")
    return load_spec(spec).service


def _show(
    client: ApiClient, deployment: Mapping[str, Any], follow: bool, output: OutputFormat
) -> None:
    if deployment.get("status") == AWAITING:
        # nothing moves until a second person approves: following it would only wait
        follow = False
        environment = deployment.get("environment")
        console(stderr=True).print(
            f"deployment {deployment.get('id')} of {deployment.get('version')} awaits approval: "
            f"another deployer of {environment} runs codectl approve {environment}"
        )
    if follow:
        path = f"/api/v1/deployments/{deployment['id']}"
        deployment = watch(lambda: client.get(path), quiet=output is OutputFormat.json)
    if output is OutputFormat.json:
        print_json(deployment)
    else:
        render_object({k: deployment.get(k) for k in SUMMARY}, output)
    if follow:
        outcome(deployment)


def _active(
    client: ApiClient, service: str, environment: str, missing: str = ""
) -> Mapping[str, Any]:
    """The environment's deployment that is rolling out or awaits approval."""
    [status] = client.get("/api/v1/deployments/status", service=service, environment=environment)
    if status["active"] is None:
        raise UserError(missing or f"nothing is rolling out in {environment}")
    active: Mapping[str, Any] = status["active"]
    return active


def deploy(
    environment: str = typer.Argument(..., help="Environment to deploy to."),
    version: str = typer.Option(None, "--version", "-v", help="Release [default: newest]."),
    follow: bool = WATCH,
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Roll a release out to ENVIRONMENT with its strategy (canary, blue-green, all at once)."""
    client = ApiClient(server)
    body = {
        "service": service_name(service, spec),
        "environment": environment,
        "version": version,
        "run": True,
    }
    _show(client, client.post("/api/v1/deployments", body), follow, output)


def promote(
    source: str = typer.Argument(..., metavar="FROM", help="Environment serving the release."),
    target: str = typer.Argument(None, metavar="[TO]", help="Environment to deploy it to."),
    full: bool = typer.Option(
        False, "--full", help="Without TO: skip the remaining steps of FROM's rollout."
    ),
    follow: bool = WATCH,
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Deploy to TO the release serving FROM; or, with --full, finish FROM's rollout now."""
    client = ApiClient(server)
    name = service_name(service, spec)
    if target is None:
        if not full:
            raise UserError("give TO, or --full to skip the remaining steps of the rollout")
        active = _active(client, name, source)
        deployment = client.post(f"/api/v1/deployments/{active['id']}/promote")
    else:
        body = {"service": name, "from": source, "to": target}
        deployment = client.post("/api/v1/deployments/promote", body)
    _show(client, deployment, follow, output)


def rollback(
    environment: str = typer.Argument(..., help="Environment to roll back."),
    to: str = typer.Option(None, "--to", help="Version [default: the one before]."),
    follow: bool = WATCH,
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Abort the rollout in progress, or redeploy (all at once) the previous good release."""
    client = ApiClient(server)
    body = {"service": service_name(service, spec), "environment": environment, "to": to}
    _show(client, client.post("/api/v1/deployments/rollback", body), follow, output)


def status(
    environment: str = typer.Argument(None, help="Only this environment."),
    follow: bool = typer.Option(
        False, "--watch", "-w", help="Keep the view live until no rollout is in progress."
    ),
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """What serves each environment, and what is rolling out. Without --service, the
    service of ./code.yaml; every service the server knows when that one is not registered
    (or there is no code.yaml)."""
    client = ApiClient(server)
    names = service_names(client, service, spec)
    found = status_view(client, names, environment, output, follow)
    errors = console(stderr=True)
    for rows in found.values():  # why the last deployment of an environment did not make it
        for row in rows:
            failed = row.get("last_failure")
            if failed:
                errors.print(
                    f"{row['environment']}: deployment {failed['id']} of {failed['version']} "
                    f"{failed['status']}: {failed['message']}",
                    markup=False,
                    highlight=False,
                )
    recovery = recovery_warning(client.get("/api/v1/dr/status"))
    if recovery:  # under the table; on stderr with -o json, so that stdout stays the document
        where = errors if output is OutputFormat.json else console()
        where.print(recovery, style="red", markup=False, highlight=False)


def watch_rollout(
    environment: str = typer.Argument(..., help="Environment whose rollout to follow."),
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Follow the rollout in progress in ENVIRONMENT until it ends (exit 0 on success or a
    planned pause, 1 otherwise), as `deploy --watch` does for a rollout it starts."""
    client = ApiClient(server)
    name = service_name(service, spec)
    [row] = client.get("/api/v1/deployments/status", service=name, environment=environment)
    if row["active"] is None:
        serving = row["version"] or "nothing"
        console(stderr=True).print(f"nothing is rolling out in {environment}: {serving} serves")
        return
    _show(client, row["active"], True, output)


def history(
    environment: str = typer.Argument(..., help="Environment."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=500),
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Deployments of ENVIRONMENT, newest first."""
    name = service_name(service, spec)
    page = ApiClient(server).get(
        "/api/v1/deployments", service=name, environment=environment, limit=limit
    )
    title = f"{name} {environment}"
    render_rows(page["items"], HISTORY_NARROW, output, title=title, wide=HISTORY)


COMMENT = typer.Option("", "--comment", "-m", help="Why; kept with the review.")
REVIEWED = typer.Argument(..., help="Environment whose deployment awaits approval.")


def _review(
    verb: str, environment: str, comment: str, service: str | None, spec: Path, server: str | None
) -> tuple[ApiClient, Mapping[str, Any]]:
    client = ApiClient(server)
    missing = f"no deployment awaits approval in {environment}"
    active = _active(client, service_name(service, spec), environment, missing)
    path = f"/api/v1/deployments/{active['id']}/{verb}"
    return client, client.post(path, {"comment": comment})


def approve(
    environment: str = REVIEWED,
    comment: str = COMMENT,
    follow: bool = WATCH,
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Approve the deployment awaiting approval in ENVIRONMENT (a second person: not yours)."""
    client, deployment = _review("approve", environment, comment, service, spec, server)
    _show(client, deployment, follow, output)


def reject(
    environment: str = REVIEWED,
    comment: str = COMMENT,
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Reject the deployment awaiting approval in ENVIRONMENT: it ends without running."""
    client, deployment = _review("reject", environment, comment, service, spec, server)
    _show(client, deployment, False, output)


def _command(verb: str, summary: str) -> Any:
    def command(
        environment: str = typer.Argument(..., help="Environment whose rollout to steer."),
        service: str = SERVICE,
        spec: Path = SPEC,
        server: str = SERVER,
        output: OutputFormat = OUTPUT,
    ) -> None:
        client = ApiClient(server)
        active = _active(client, service_name(service, spec), environment)
        _show(client, client.post(f"/api/v1/deployments/{active['id']}/{verb}"), False, output)

    command.__doc__ = summary
    return command


def register(app: typer.Typer) -> None:
    """Add the delivery commands."""
    app.command("deploy")(deploy)
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.command("status")(status)
    app.command("watch")(watch_rollout)
    app.command("history")(history)
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("pause")(_command("pause", "Hold the rollout in ENVIRONMENT."))
    app.command("resume")(_command("resume", "Continue the held rollout in ENVIRONMENT."))
    app.command("abort")(
        _command("abort", "Route ENVIRONMENT back to its stable release, stop the new one.")
    )
