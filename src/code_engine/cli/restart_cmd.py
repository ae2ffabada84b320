"""`codectl restart ENV`: restart the instances serving an environment, one by one, so that
they start with the secret values of now (a rotated secret is picked up)."""

from __future__ import annotations

from pathlib import Path

import typer

from code_engine.cli.client import ApiClient
from code_engine.cli.deploy_cmd import OUTPUT, SERVICE, SPEC, service_name
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, print_json


def restart(
    environment: str = typer.Argument(..., help="Environment whose instances to restart."),
    service: str = SERVICE,
    spec: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Replace the instances of the release serving ENVIRONMENT one by one (each replacement
    routed once ready, then the old one stopped), so that they get the current secret values;
    refused during a rollout."""
    client = ApiClient(server)
    body = {"service": service_name(service, spec), "environment": environment}
    deployment = client.post("/api/v1/deployments/restart", body)
    if output is OutputFormat.json:
        print_json(deployment)
        return
    console().print(
        f"restart of {deployment['version']} in {environment} requested: the worker restarts "
        "its instances one by one (codectl status shows them)",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `restart` command."""
    app.command("restart")(restart)
