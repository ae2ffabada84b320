"""The commands of `codectl`, in help order: one line each, naming the module that adds it.

A command's module is imported only when the command runs (or its `--help` is asked for),
so `codectl --help` and light commands start without the database layer or crypto. A new
command group is one more `Lazy(name, module, help)` line; its module keeps a
`register(app)` that adds it. The help line is the command's own first sentence (a test
checks that they agree).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

from code_engine.cli.lazy import PACKAGE, Lazy, LazyGroup

# fmt: off
COMMANDS = (
    Lazy("server", "server_cmd", "Serve the API, dashboard, health and metrics (migrates the database first), and run the rollout controllers on a background thread unless --no-worker."),  # noqa: E501
    Lazy("db", "server_cmd", "Database schema migrations."),
    Lazy("worker", "worker_cmd", "Run the rollout controllers: supervise every environment, drive every deployment."),  # noqa: E501
    Lazy("demo", "worker_cmd", "Deliver the hello example to dev: a release, a healthy canary, then a bad canary that is rolled back automatically."),  # noqa: E501
    Lazy("down", "worker_cmd", "Stop the instances and routers the local target runs in the data directory."),  # noqa: E501
    Lazy("login", "auth_cmd", "Get a token (client credentials or user password) and store it for later commands."),  # noqa: E501
    Lazy("users", "auth_cmd", "Human users (password grant)."),
    Lazy("clients", "auth_cmd", "Machine clients (client_credentials grant)."),
    Lazy("auth", "auth_cmd", "Signing keys."),
    Lazy("services", "resources_cmd", "Read services."),
    Lazy("changes", "resources_cmd", "Read changes."),
    Lazy("releases", "resources_cmd", "Read releases."),
    Lazy("deployments", "resources_cmd", "Read deployments."),
    Lazy("incidents", "resources_cmd", "Read incidents."),
    Lazy("audit", "resources_cmd", "Read audit."),
    Lazy("environments", "resources_cmd", "Read environments."),
    Lazy("validate", "spec_cmd", "Check a code.yaml; print each problem as FILE:LINE:COLUMN: FIELD: MESSAGE (exit 2)."),  # noqa: E501
    Lazy("schema", "spec_cmd", "Print the JSON Schema (draft 2020-12) of code.yaml."),
    Lazy("release", "release_cmd", "Releases: versions of the service at a git commit."),
    Lazy("deploy", "deploy_cmd", "Roll a release out to ENVIRONMENT with its strategy (canary, blue-green, all at once)."),  # noqa: E501
    Lazy("promote", "deploy_cmd", "Deploy to TO the release serving FROM; or, with --full, finish FROM's rollout now."),  # noqa: E501
    Lazy("rollback", "deploy_cmd", "Abort the rollout in progress, or redeploy (all at once) the previous good release."),  # noqa: E501
    Lazy("status", "deploy_cmd", "What serves each environment, and what is rolling out."),
    Lazy("watch", "deploy_cmd", "Follow the rollout in progress in ENVIRONMENT until it ends (exit 0 on success or a planned pause, 1 otherwise), as `deploy --watch` does for a rollout it starts."),  # noqa: E501
    Lazy("history", "deploy_cmd", "Deployments of ENVIRONMENT, newest first."),
    Lazy("approve", "deploy_cmd", "Approve the deployment awaiting approval in ENVIRONMENT (a second person: not yours)."),  # noqa: E501
    Lazy("reject", "deploy_cmd", "Reject the deployment awaiting approval in ENVIRONMENT: it ends without running."),  # noqa: E501
    Lazy("pause", "deploy_cmd", "Hold the rollout in ENVIRONMENT."),
    Lazy("resume", "deploy_cmd", "Continue the held rollout in ENVIRONMENT."),
    Lazy("abort", "deploy_cmd", "Route ENVIRONMENT back to its stable release, stop the new one."),
    Lazy("restart", "restart_cmd", "Replace the instances of the release serving ENVIRONMENT one by one (each replacement routed once ready, then the old one stopped), so that they get the current secret values; refused during a rollout."),  # noqa: E501
    Lazy("render", "render_cmd", "Print the validated manifests a deployment of VERSION to ENVIRONMENT would commit."),  # noqa: E501
    Lazy("diff", "render_cmd", "Show what deploying VERSION would change in ENVIRONMENT's GitOps repository."),  # noqa: E501
    Lazy("check-manifests", "render_cmd", "Render kustomizations with kustomize and validate every object (exit 2 if invalid)."),  # noqa: E501
    Lazy("load", "load_cmd", "Send GET requests to ENVIRONMENT's router at a steady rate, then print what came back."),  # noqa: E501
    Lazy("logs", "logs_cmd", "Print the last lines of every instance log of SERVICE in ENV (and the router's), the secret values given to the instances masked."),  # noqa: E501
    Lazy("assess", "assess_cmd", "Measure the repository's DevOps maturity (Level 0-3) across the nine categories."),  # noqa: E501
    Lazy("ci", "ci_cmd", "Run the quality pipeline (lint, test, security, build) and its gates (docs/pipeline.md)."),  # noqa: E501
    Lazy("deps", "deps_cmd", "Dependencies: vulnerability scan against OSV advisories."),
    Lazy("dora", "dora_cmd", "DORA four keys: deployment frequency, lead time, change failure rate, time to restore."),  # noqa: E501
    Lazy("dr", "dr_cmd", "Disaster recovery: backups, restores, drills (docs/dr.md)."),
    Lazy("policy", "policy_cmd", "Policies: evaluate a decision, run the Rego unit tests."),
)
# fmt: on


class Commands(LazyGroup):
    """The top-level group of `codectl`."""

    lazy = COMMANDS


def register_all(app: typer.Typer) -> None:
    """Import every command module now and add its commands to `app`."""
    for module in dict.fromkeys(entry.module for entry in COMMANDS):
        registrar: Any = importlib.import_module(f"{PACKAGE}.{module}")
        registrar.register(app)
