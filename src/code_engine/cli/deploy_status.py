"""`codectl status`: which services to show, and the (live) view of their environments."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.live import Live

from code_engine.cli.client import ApiClient
from code_engine.cli.deploy_watch import describe
from code_engine.cli.output import WIDE, OutputFormat, console, print_json, table_of
from code_engine.errors import UserError
from code_engine.spec import load_spec

COLUMNS = ("environment", "version", "url", "rolling out")
PAGE = 500


def service_names(client: ApiClient, service: str | None, spec: Path) -> list[str]:
    """`--service`; else the service `spec` names when the server knows it; else every
    service the server knows (CODE's own repository names a service deployed elsewhere)."""
    if service:
        return [service]
    local = load_spec(spec).service if spec.is_file() else None
    known = [str(item["name"]) for item in client.get("/api/v1/services", limit=PAGE)["items"]]
    if local in known:
        return [str(local)]
    if not known:
        where = f" ({spec} names {local!r})" if local else ""
        raise UserError(
            f"the server knows no service yet{where}: codectl release create registers one"
        )
    if local:
        console(stderr=True).print(
            f"{spec} names {local!r}, which the server does not know; "
            f"showing every service it knows ({', '.join(known)})"
        )
    return known


def rows_of(client: ApiClient, name: str, environment: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = client.get(
        "/api/v1/deployments/status", service=name, environment=environment
    )
    return rows


def _table_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "environment": row["environment"],
            "version": row["version"],
            "url": row["url"],
            "rolling out": None
            if row["active"] is None
            else f"#{row['active']['id']} {describe(row['active'])}",
        }
        for row in rows
    ]


def status_view(
    client: ApiClient,
    names: Sequence[str],
    environment: str | None,
    output: OutputFormat,
    follow: bool,
    interval: float = 1.0,
) -> dict[str, list[dict[str, Any]]]:
    """Print the status of `names`; with `follow`, keep it live until nothing rolls out.
    Returns the rows last shown, by service."""

    def fetch() -> dict[str, list[dict[str, Any]]]:
        return {name: rows_of(client, name, environment) for name in names}

    def rolling(found: dict[str, list[dict[str, Any]]]) -> bool:
        return any(row["active"] is not None for rows in found.values() for row in rows)

    def view(found: dict[str, list[dict[str, Any]]]) -> Group:
        tables = (table_of(_table_rows(r), COLUMNS, output, title=n) for n, r in found.items())
        return Group(*tables)

    found = fetch()
    if output is OutputFormat.json:
        while follow and rolling(found):
            time.sleep(interval)
            found = fetch()
        print_json(found[names[0]] if len(names) == 1 else found)
        return found
    out = console(width=WIDE if output is OutputFormat.wide else None)
    if not follow:
        out.print(view(found))
        return found
    with Live(view(found), console=out, auto_refresh=False) as live:
        while rolling(found):
            time.sleep(interval)
            found = fetch()
            live.update(view(found), refresh=True)
    return found
