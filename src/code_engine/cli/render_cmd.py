"""`codectl render`, `codectl diff` and `codectl check-manifests`: the Kubernetes target's
manifests as a deployment would commit them, checked by the real kustomize and schemas."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from code_engine.cli.context import load_settings
from code_engine.cli.output import OutputFormat, console, print_json
from code_engine.deploy.gitrepo import GitRepository
from code_engine.deploy.kubernetes.gitops import GitOpsRepo
from code_engine.deploy.kubernetes.kustomize import find_kubectl
from code_engine.deploy.kubernetes.render import (
    Rendered,
    kubernetes_target,
    render_directory,
    render_environment,
)
from code_engine.deploy.kubernetes.validate import validate_objects, validate_rendered
from code_engine.errors import UserError
from code_engine.spec import SPEC_FILENAME, ServiceSpec, load_spec

SPEC = typer.Option(SPEC_FILENAME, "--spec", "-f", help="The service's code.yaml.")
VERSION = typer.Option(
    None, "--version", "-v", help="Release version [default: the commit at HEAD, shortened]."
)
DIGEST = typer.Option(None, "--digest", help="Image digest to pin, sha256:<64 hex>.")
OUTPUT = typer.Option(OutputFormat.table, "--output", "-o", help="table (YAML text) or json.")


def render(
    environment: Annotated[str, typer.Argument(help="A Kubernetes environment of code.yaml.")],
    version: str | None = VERSION,
    digest: str | None = DIGEST,
    spec: Path = SPEC,
    output: OutputFormat = OUTPUT,
) -> None:
    """Print the validated manifests a deployment of VERSION to ENVIRONMENT would commit."""
    rendered, _ = _render(spec, environment, version, digest)
    if output is OutputFormat.json:
        print_json(_as_json(rendered))
        return
    sys.stdout.write(rendered.text)


def diff(
    environment: Annotated[str, typer.Argument(help="A Kubernetes environment of code.yaml.")],
    version: str | None = VERSION,
    digest: str | None = DIGEST,
    spec: Path = SPEC,
    output: OutputFormat = OUTPUT,
) -> None:
    """Show what deploying VERSION would change in ENVIRONMENT's GitOps repository."""
    rendered, loaded = _render(spec, environment, version, digest)
    gitops = kubernetes_target(loaded, environment).gitops
    if gitops is None:
        raise UserError(f"environment {environment!r} has no target.gitops in {spec}")
    repo = GitOpsRepo.under(load_settings().data_dir, environment, gitops)
    text = repo.diff(environment, rendered)
    if output is OutputFormat.json:
        print_json(
            {
                "environment": environment,
                "version": rendered.version,
                "repo": gitops.repo,
                "branch": gitops.branch,
                "file": repo.file,
                "changed": bool(text),
                "diff": text,
            }
        )
        return
    if not text:
        console(stderr=True).print(f"{gitops.repo} {gitops.branch}: {repo.file} is up to date")
        return
    sys.stdout.write(text)


def check_manifests(
    directories: Annotated[
        list[str], typer.Argument(metavar="DIR...", help="Kustomization directories.")
    ],
    kubernetes_version: str = typer.Option(
        "1.30", "--kubernetes-version", "-k", help="Kubernetes schemas to check against."
    ),
    output: OutputFormat = OUTPUT,
) -> None:
    """Render kustomizations with kustomize and validate every object (exit 2 if invalid)."""
    rows = []
    kubectl = find_kubectl(load_settings().kubectl)
    for directory in directories:
        rendered = render_directory(Path.cwd(), directory, kubectl=kubectl)
        validate_objects(rendered.objects, rendered.sources, kubernetes_version)
        kinds = sorted({str(obj["kind"]) for obj in rendered.objects})
        rows.append({"directory": directory, "objects": len(rendered.objects), "kinds": kinds})
        if output is not OutputFormat.json:
            typer.echo(f"{directory}: {len(rendered.objects)} objects valid ({', '.join(kinds)})")
    if output is OutputFormat.json:
        print_json(rows)


def register(app: typer.Typer) -> None:
    """Add `render`, `diff` and `check-manifests` to the application."""
    app.command("render")(render)
    app.command("diff")(diff)
    app.command("check-manifests")(check_manifests)


def _render(
    spec_path: Path, environment: str, version: str | None, digest: str | None
) -> tuple[Rendered, ServiceSpec]:
    spec = load_spec(spec_path)
    root = spec_path.resolve().parent
    target = kubernetes_target(spec, environment)
    kubectl = find_kubectl(load_settings().kubectl)
    rendered = render_environment(
        root, spec, environment, version or _head_version(root), digest, kubectl=kubectl
    )
    validate_rendered(rendered, target.kubernetes_version)
    return rendered, spec


def _head_version(root: Path) -> str:
    try:
        return GitRepository(root).resolve("HEAD")[:12]
    except UserError:
        raise UserError(f"{root} is not a git checkout with commits: give --version") from None


def _as_json(rendered: Rendered) -> dict[str, object]:
    return {
        "environment": rendered.environment,
        "version": rendered.version,
        "image": rendered.image,
        "objects": [
            {"source": source, "object": obj}
            for obj, source in zip(rendered.objects, rendered.sources, strict=True)
        ],
    }
