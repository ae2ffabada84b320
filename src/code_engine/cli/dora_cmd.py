"""`codectl dora`: the four keys, commit import from git, Grafana dashboard, demo data."""

from __future__ import annotations

import json
import sys
import webbrowser
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table

from code_engine.cli.client import DEFAULT_SERVER, ApiClient, load_login
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, print_json
from code_engine.dora import grafana
from code_engine.dora.events import PayloadError, parse_timestamp
from code_engine.dora.gitlog import read_commits
from code_engine.dora.window import parse_days
from code_engine.errors import UserError

dora_app = typer.Typer(
    help="DORA four keys: deployment frequency, lead time, change failure rate, time to restore.",
    invoke_without_command=True,
)
BATCH = 1000
BAND_STYLE = {"elite": "green", "high": "cyan", "medium": "yellow", "low": "red"}
SPARKS = "▁▂▃▄▅▆▇█"
TREND_FIELD = {
    "deployment_frequency": "deployments_per_week",
    "lead_time": "lead_time_median_hours",
    "change_failure_rate": "change_failure_rate_percent",
    "time_to_restore": "time_to_restore_median_hours",
}


def register(app: typer.Typer) -> None:
    """Add the `dora` command group."""
    app.add_typer(dora_app, name="dora")


@dora_app.callback()
def show(
    ctx: typer.Context,
    service: str = typer.Option(None, "--service", "-s", help="One service [default: all]."),
    env: str = typer.Option("prod", "--env", "-e", help="Environment."),
    window: str = typer.Option("30d", "--window", "-w", help="Last N days: 7d, 30d or 90d."),
    since: str = typer.Option(None, "--from", help="Explicit start: a date or RFC 3339 time."),
    until: str = typer.Option(None, "--to", help="Explicit end [default: now]."),
    output: OutputFormat = typer.Option(
        OutputFormat.table, "--output", "-o", help="table or json."
    ),
) -> None:
    """Show the four keys per service, with band, target and weekly trend."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        parse_days(window)
    except ValueError as exc:
        raise UserError(f"--window: {exc}") from None
    params: dict[str, Any] = {"service": service, "environment": env, "window": window}
    for name, value in (("from", since), ("to", until)):
        if value is not None:
            params[name] = when(value, f"--{name}").isoformat()
    data = ApiClient().get("/api/v1/metrics/dora", **params)
    if output is OutputFormat.json:
        print_json(data)
        return
    if not data["services"]:
        console().print(f"no service has an environment named {env!r}")
    for item in data["services"]:
        console().print(_table(item, data["start"], data["end"]))
    if data["services"]:
        source = data["bands"]
        console().print(f"bands: DORA {source['report']} {source['year']} ({source['url']})")


def when(value: str, option: str) -> datetime:
    """`2024-06-01` (midnight UTC) or an RFC 3339 time with its offset."""
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00Z"
    try:
        return parse_timestamp(text, option)
    except PayloadError as exc:
        raise UserError(str(exc)) from None


def sparkline(values: list[float | None]) -> str:
    """Unicode bars scaled between the smallest and largest value; gaps for no data."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    return "".join(
        " " if v is None else SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values
    )


def _value(metric: dict[str, Any]) -> str:
    value = metric["value"]
    if value is None:
        return "no data"
    return f"{value:.2f} {metric['unit']}"


def _table(item: dict[str, Any], start: str, end: str) -> Table:
    table = Table(title=f"{item['service']} ({item['environment']}) {start[:10]} → {end[:10]}")
    for column in ("metric", "value", "band", "target", "met", "trend (weekly)"):
        table.add_column(column)
    for key, metric in item["metrics"].items():
        band = metric["band"] or "-"
        met = {True: "yes", False: "no", None: "-"}[metric["passed"]]
        trend = sparkline([point[TREND_FIELD[key]] for point in item["trend"]])
        table.add_row(
            metric["title"],
            _value(metric),
            f"[{BAND_STYLE.get(band, '')}]{band}[/]" if band != "-" else band,
            metric["target"],
            met,
            trend,
        )
    return table


def _commit_json(commit: Any) -> dict[str, Any]:
    data = {
        "type": "commit",
        "id": commit.sha,
        "service": commit.service,
        "authored_at": commit.authored_at.isoformat(),
        "committed_at": commit.committed_at.isoformat(),
        "message": commit.message[:10_000],
    }
    if commit.first_commit_at is not None:
        data["first_commit_at"] = commit.first_commit_at.isoformat()
    return data


@dora_app.command("import-git")
def import_git(
    path: Path = typer.Argument(..., help="A git repository (work tree or bare)."),
    service: str = typer.Option(None, "--service", "-s", help="[default: directory name]"),
    since: str = typer.Option(None, "--since", help="Only commits after this date."),
    batch: int = typer.Option(BATCH, min=1, max=10_000, help="Events per request."),
) -> None:
    """Send a repository's commits (author, commit and first-commit times) to CODE."""
    after = when(since, "--since") if since else None
    commits = read_commits(path, after, service=service)
    client = ApiClient()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with Progress(console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("importing commits", total=len(commits))
        for first in range(0, len(commits), batch):
            chunk = commits[first : first + batch]
            result = client.post("/api/v1/events", {"events": [_commit_json(c) for c in chunk]})
            for outcome in counts:
                counts[outcome] += result[outcome]["commit"]
            progress.advance(task, len(chunk))
    name = service or path.resolve().name
    console().print(
        f"{len(commits)} commits of {name}: {counts['created']} new, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged"
    )


@dora_app.command("grafana-dashboard")
def grafana_dashboard(
    output: Path = typer.Option(None, "--output", "-o", help="File to write [default: stdout]."),
) -> None:
    """Write a Grafana dashboard (JSON, Prometheus datasource) of the code_dora_* gauges."""
    text = json.dumps(grafana.dashboard(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console(stderr=True).print(f"wrote {output}")


@dora_app.command("dashboard")
def open_dashboard(
    server: str = SERVER,
    browser: bool = typer.Option(True, "--open/--no-open", help="Open a web browser."),
) -> None:
    """Open CODE's dashboard (the four keys, deployments, incidents) in a browser."""
    login = load_login()
    base = server or (login.server if login else DEFAULT_SERVER)
    url = base.rstrip("/") + "/"
    console().print(f"CODE dashboard: {url}")
    if browser and not webbrowser.open(url):
        console(stderr=True).print("no browser found here; open the address above")


@dora_app.command("seed-demo")
def seed_demo(
    service: str = typer.Option("demo-shop", "--service", "-s", help="Service to create."),
    days: int = typer.Option(90, min=7, max=365, help="Days of history to generate."),
    seed: int = typer.Option(7, help="Random seed (the same seed gives the same data)."),
    assess: Path = typer.Option(None, help="Also record this repository's maturity assessment."),
) -> None:
    """Fill the local database with a demo service's history (for a first look)."""
    from code_engine.cli.context import load_settings, open_database
    from code_engine.cli.dora_demo import seed_service
    from code_engine.clock import utc_now

    db = open_database(load_settings())
    summary = seed_service(db, utc_now(), service=service, days=days, seed=seed, assess=assess)
    console().print(
        f"{service}: {summary['deployment']} deployments, {summary['commit']} commits, "
        f"{summary['incident']} incidents over {days} days"
    )
