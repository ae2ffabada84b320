"""`codectl release create`: record a release of the service at a git commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from code_engine.cli.client import ApiClient
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, render_object
from code_engine.deploy.gitrepo import GitRepository, is_remote
from code_engine.errors import NotFoundError
from code_engine.spec import SPEC_FILENAME, ServiceSpec, load_spec

OUTPUT = typer.Option(
    OutputFormat.table, "--output", "-o", help="table (80 columns), wide (every column) or json."
)
SPEC = typer.Option(SPEC_FILENAME, "--spec", "-f", help="The service's code.yaml.")

release_app = typer.Typer(help="Releases: versions of the service at a git commit.")


def service_dir(spec_path: Path, spec: ServiceSpec) -> Path:
    """The service's directory: `repo` of the spec, relative to the spec file."""
    if is_remote(spec.repo):
        return spec_path.resolve().parent
    return (spec_path.resolve().parent / spec.repo).resolve()


def repo_of(spec_path: Path, spec: ServiceSpec) -> str:
    """What the server reads releases from: the URL, or the absolute local path."""
    return spec.repo if is_remote(spec.repo) else str(service_dir(spec_path, spec))


def ensure_service(client: ApiClient, spec_path: Path, spec: ServiceSpec) -> None:
    """Register the service from its spec if the server does not know it (needs admin)."""
    try:
        client.get(f"/api/v1/services/{spec.service}")
        return
    except NotFoundError:
        pass
    environments = [
        {
            "name": e.name,
            "target_kind": e.target.kind,
            "requires_previous": e.protection.requires_previous,
        }
        for e in spec.environments
    ]
    body: dict[str, Any] = {
        "name": spec.service,
        "repo": repo_of(spec_path, spec),
        "description": spec.description or "",
        "environments": environments,
    }
    client.post("/api/v1/services", body)
    console(stderr=True).print(f"registered service {spec.service}")


@release_app.command("create")
def create(
    version: str = typer.Option(..., "--version", "-v", help="Release version, e.g. 1.4.0."),
    sha: str = typer.Option(None, "--sha", help="Commit to release [default: HEAD]."),
    spec_file: Path = SPEC,
    server: str = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Record release VERSION of the service at a commit (registering the service first).
    Shows each step while it runs; the release's virtualenv is built by its first deployment
    (`deploy --watch` shows it starting)."""
    spec = load_spec(spec_file)
    quiet = output is OutputFormat.json
    with console(stderr=True).status("", spinner="dots") as progress:

        def step(text: str) -> None:
            if not quiet:
                progress.update(text)

        step(f"resolving {sha or 'HEAD'} in {service_dir(spec_file, spec)}")
        full_sha = GitRepository(service_dir(spec_file, spec)).resolve(sha or "HEAD")
        client = ApiClient(server)
        step(f"looking {spec.service} up on the server")
        ensure_service(client, spec_file, spec)
        body = {"service": spec.service, "version": version, "sha": full_sha}
        step(f"recording {version} at {full_sha[:12]} (the server checks its code.yaml)")
        created = client.post("/api/v1/releases", body)
    render_object(created, output)
    if not quiet and created.get("qualified") is False:
        console(stderr=True).print(
            f"not qualified yet: {created.get('qualification')} (environments with "
            "protection.requires_pipeline refuse it until a passing run is recorded)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add the `release` group."""
    app.add_typer(release_app, name="release")
