"""`codectl <resource> list|show`: read the API's resources as tables or JSON."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from code_engine.cli.client import ApiClient
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, render_object, render_rows
from code_engine.errors import CodeError

OUTPUT = typer.Option(OutputFormat.table, "--output", "-o", help="table or json.")
LIMIT = typer.Option(50, "--limit", "-n", min=1, max=500, help="Rows per page.")
CURSOR = typer.Option(None, "--cursor", help="Continue from a previous page.")


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    columns: tuple[str, ...]
    key: str = "id"
    has_show: bool = True


RESOURCES = (
    Resource("services", "/api/v1/services", ("name", "repo", "created_at"), key="name"),
    Resource(
        "changes",
        "/api/v1/changes",
        ("sha", "conventional_type", "authored_at", "message"),
        has_show=False,
    ),
    Resource(
        "releases",
        "/api/v1/releases",
        ("version", "sha", "created_by", "created_at"),
        has_show=False,
    ),
    Resource(
        "deployments",
        "/api/v1/deployments",
        ("id", "service", "environment", "version", "status", "strategy", "finished_at"),
    ),
    Resource(
        "incidents", "/api/v1/incidents", ("id", "title", "severity", "opened_at", "resolved_at")
    ),
    Resource(
        "audit",
        "/api/v1/audit",
        ("id", "at", "principal", "action", "resource", "outcome"),
        has_show=False,
    ),
)


def _page(output: OutputFormat, resource: Resource, body: dict[str, object]) -> None:
    items = body.get("items", [])
    if not isinstance(items, list):
        raise CodeError(f"unexpected answer from the server for {resource.name}")
    if output is OutputFormat.json:
        render_rows(items, resource.columns, output)
        return
    render_rows(items, resource.columns, output, title=resource.name)
    if body.get("next_cursor"):
        console(stderr=True).print(f"more: --cursor {body['next_cursor']}")


def _group(resource: Resource) -> typer.Typer:
    group = typer.Typer(help=f"Read {resource.name}.", no_args_is_help=True)

    @group.command("list")
    def list_(
        service: str = typer.Option(None, "--service", "-s", help="Only this service."),
        server: str = SERVER,
        output: OutputFormat = OUTPUT,
        limit: int = LIMIT,
        cursor: str = CURSOR,
    ) -> None:
        """List, newest first."""
        params = {"limit": limit, "cursor": cursor}
        if resource.name not in ("services", "audit"):
            params["service"] = service
        _page(output, resource, ApiClient(server).get(resource.path, **params))

    if resource.has_show:

        @group.command("show")
        def show(key: str, server: str = SERVER, output: OutputFormat = OUTPUT) -> None:
            """Show one, by id (or name for services)."""
            render_object(ApiClient(server).get(f"{resource.path}/{key}"), output)

    return group


environments_app = typer.Typer(help="Read environments.", no_args_is_help=True)


@environments_app.command("list")
def environments_list(
    service: str = typer.Option(..., "--service", "-s"),
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """List a service's environments in promotion order."""
    rows = ApiClient(server).get("/api/v1/environments", service=service)
    render_rows(rows, ("name", "position", "target_kind", "requires_previous"), output)


def register(app: typer.Typer) -> None:
    for resource in RESOURCES:
        app.add_typer(_group(resource), name=resource.name)
    app.add_typer(environments_app, name="environments")
